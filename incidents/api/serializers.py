from rest_framework import serializers

from incidents.choices import AlertSeverity
from incidents.models import Alert, Incident, Milestone, PhaseTransition, RunbookExecution, SurveyResponse


class IncidentSerializer(serializers.ModelSerializer):
    company = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    service = serializers.SlugRelatedField(slug_field="slug", read_only=True)

    class Meta:
        model = Incident
        fields = [
            "id", "company", "service", "external_id", "title", "severity", "status", "detected_at",
            "acknowledged_at", "resolved_at", "automation_used", "runbook_id", "correlation_key",
        ]
        read_only_fields = fields


class CompanyScopedSerializer(serializers.Serializer):
    """
    `company` and `service` given by slug. The view resolves every slug of a request in one query and
    passes them in the context as "companies" {slug: Company} and "services" {(company_id, slug): Service}.
    """

    company = serializers.CharField(max_length=64)
    service = serializers.CharField(max_length=64, required=False, allow_blank=True)

    def validate_company(self, slug):
        company = self.context["companies"].get(slug)
        if company is None:
            raise serializers.ValidationError(f"No company has the slug '{slug}'.")
        return company

    def validate(self, attrs):
        slug = attrs.pop("service", "")
        if slug:
            service = self.context["services"].get((attrs["company"].pk, slug))
            if service is None:
                raise serializers.ValidationError({"service": f"'{attrs['company'].slug}' has no service '{slug}'."})
            attrs["service"] = service
        return attrs


class AlertInSerializer(CompanyScopedSerializer):
    asset = serializers.CharField(max_length=200)
    signature = serializers.CharField(max_length=200)
    severity = serializers.ChoiceField(choices=AlertSeverity.choices)
    issued_at = serializers.DateTimeField()
    source = serializers.CharField(max_length=64)
    external_id = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    payload = serializers.JSONField(required=False, default=dict)

    def to_alert(self, attrs):
        return Alert(**attrs)


class IncidentInSerializer(CompanyScopedSerializer):
    external_id = serializers.CharField(max_length=200)
    title = serializers.CharField(max_length=500)
    severity = serializers.ChoiceField(choices=Incident._meta.get_field("severity").choices)
    status = serializers.ChoiceField(choices=Incident._meta.get_field("status").choices, required=False)
    detected_at = serializers.DateTimeField()
    acknowledged_at = serializers.DateTimeField(required=False, allow_null=True)
    resolved_at = serializers.DateTimeField(required=False, allow_null=True)
    automation_used = serializers.BooleanField(required=False)
    runbook_id = serializers.CharField(max_length=200, required=False, allow_blank=True)


class PhaseTransitionInSerializer(serializers.ModelSerializer):
    class Meta:
        model = PhaseTransition
        fields = ["phase", "entered_at"]
        validators = []  # (incident, phase) is an upsert key here, not a reason to refuse


class MilestoneInSerializer(serializers.ModelSerializer):
    class Meta:
        model = Milestone
        fields = ["name", "committed_eta", "delivered_at"]
        validators = []


class SurveyResponseInSerializer(serializers.ModelSerializer):
    score = serializers.IntegerField(min_value=1, max_value=5)

    class Meta:
        model = SurveyResponse
        fields = ["respondent", "score", "submitted_at"]
        validators = []


class RunbookExecutionInSerializer(CompanyScopedSerializer):
    incident = serializers.PrimaryKeyRelatedField(queryset=Incident.objects.all(), required=False, allow_null=True)
    runbook_id = serializers.CharField(max_length=200)
    execution_id = serializers.CharField(max_length=200)
    started_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(required=False, allow_null=True)
    success = serializers.BooleanField()


class RunbookExecutionSerializer(serializers.ModelSerializer):
    company = serializers.SlugRelatedField(slug_field="slug", read_only=True)

    class Meta:
        model = RunbookExecution
        fields = ["id", "company", "incident", "runbook_id", "execution_id", "started_at", "finished_at", "success"]
        read_only_fields = fields


class IngestResultSerializer(serializers.Serializer):
    received = serializers.IntegerField()
    created = serializers.IntegerField()
