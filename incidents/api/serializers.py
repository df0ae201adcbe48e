from rest_framework import serializers

from companyos.api.fields import AwareDateTimeField, IngestModelSerializer, RefusesUnknownFields, refuse_out_of_order
from companyos.api.payloads import MAX_ROWS_PER_REQUEST
from incidents.choices import AlertSeverity
from incidents.models import Alert, Incident, Milestone, PhaseTransition, RunbookExecution, SurveyResponse


class IncidentSerializer(serializers.ModelSerializer):
    company = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    service = serializers.SlugRelatedField(slug_field="slug", read_only=True, allow_null=True)

    class Meta:
        model = Incident
        fields = [
            "id", "company", "service", "external_id", "title", "severity", "status", "detected_at",
            "acknowledged_at", "resolved_at", "automation_used", "runbook_id", "correlation_key", "merged_into",
        ]
        read_only_fields = fields


class CompanyScopedSerializer(RefusesUnknownFields, serializers.Serializer):
    """
    What a data source sends about one company: unknown fields are refused. `company` and `service` given by slug.
    The view resolves every slug of a request in one query and passes them in the context as "companies"
    {slug: Company} and "services" {(company_id, slug): Service}.
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
    issued_at = AwareDateTimeField()
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
    detected_at = AwareDateTimeField()
    acknowledged_at = AwareDateTimeField(required=False, allow_null=True, help_text="Not before detected_at.")
    resolved_at = AwareDateTimeField(required=False, allow_null=True, help_text="Not before detected_at.")
    automation_used = serializers.BooleanField(required=False)
    runbook_id = serializers.CharField(max_length=200, required=False, allow_blank=True)

    def validate(self, attrs):
        refuse_out_of_order(attrs, "detected_at", "acknowledged_at", "resolved_at")
        return super().validate(attrs)


class PhaseTransitionInSerializer(IngestModelSerializer):
    class Meta:
        model = PhaseTransition
        fields = ["phase", "entered_at"]
        validators = []  # (incident, phase) is an upsert key here, not a reason to refuse


class MilestoneInSerializer(IngestModelSerializer):
    class Meta:
        model = Milestone
        fields = ["name", "committed_eta", "delivered_at"]
        validators = []


class SurveyResponseInSerializer(IngestModelSerializer):
    score = serializers.IntegerField(min_value=1, max_value=5)

    class Meta:
        model = SurveyResponse
        fields = ["respondent", "score", "submitted_at"]
        validators = []


class RunbookExecutionInSerializer(CompanyScopedSerializer):
    incident = serializers.IntegerField(
        required=False, allow_null=True, min_value=1, max_value=2**63 - 1, help_text="The id of one of the company's incidents."
    )
    runbook_id = serializers.CharField(max_length=200)
    execution_id = serializers.CharField(max_length=200)
    started_at = AwareDateTimeField()
    finished_at = AwareDateTimeField(required=False, allow_null=True, help_text="Not before started_at.")
    success = serializers.BooleanField()

    def validate(self, attrs):
        refuse_out_of_order(attrs, "started_at", "finished_at")
        attrs = super().validate(attrs)
        if attrs.get("incident") is not None:
            # Looked up within the run's company: another company's incident is as unknown as a missing one.
            incident = Incident.objects.filter(company=attrs["company"], pk=attrs["incident"]).first()
            if incident is None:
                raise serializers.ValidationError({"incident": f"'{attrs['company'].slug}' has no incident {attrs['incident']}."})
            attrs["incident"] = incident
        return attrs


class RunbookExecutionSerializer(serializers.ModelSerializer):
    company = serializers.SlugRelatedField(slug_field="slug", read_only=True)

    class Meta:
        model = RunbookExecution
        fields = ["id", "company", "incident", "runbook_id", "execution_id", "started_at", "finished_at", "success"]
        read_only_fields = fields


class PhaseTransitionSerializer(serializers.ModelSerializer):
    class Meta:
        model = PhaseTransition
        fields = ["id", "phase", "entered_at"]
        read_only_fields = fields


class MilestoneSerializer(serializers.ModelSerializer):
    class Meta:
        model = Milestone
        fields = ["id", "name", "committed_eta", "delivered_at"]
        read_only_fields = fields


class SurveyResponseSerializer(serializers.ModelSerializer):
    class Meta:
        model = SurveyResponse
        fields = ["id", "respondent", "score", "submitted_at"]
        read_only_fields = fields


class AlertSerializer(serializers.ModelSerializer):
    service = serializers.SlugRelatedField(slug_field="slug", read_only=True, allow_null=True)

    class Meta:
        model = Alert
        fields = ["id", "external_id", "service", "asset", "signature", "severity", "issued_at", "source", "incident"]
        read_only_fields = fields


class AlertmanagerAlertSerializer(serializers.Serializer):
    """
    One alert of an Alertmanager webhook, type-checked; the fields we do not read are kept with the alert as sent.
    `endsAt` is read only when `status` is resolved (Alertmanager sends 0001-01-01T00:00:00Z, or a guess, while firing).
    """

    labels = serializers.DictField(child=serializers.CharField(allow_blank=True, max_length=1000), required=False)
    annotations = serializers.DictField(child=serializers.CharField(allow_blank=True), required=False)
    startsAt = AwareDateTimeField()
    endsAt = serializers.CharField(required=False, allow_blank=True)
    status = serializers.CharField(required=False, allow_blank=True)
    fingerprint = serializers.CharField(required=False, allow_blank=True, max_length=200)
    generatorURL = serializers.CharField(required=False, allow_blank=True)


class AlertmanagerPayloadSerializer(serializers.Serializer):
    """Prometheus Alertmanager's webhook payload (version 4), type-checked before any of it is read."""

    version = serializers.CharField()
    alerts = serializers.ListField(child=AlertmanagerAlertSerializer(), max_length=MAX_ROWS_PER_REQUEST)
    commonLabels = serializers.DictField(child=serializers.CharField(allow_blank=True, max_length=1000), required=False)
    commonAnnotations = serializers.DictField(child=serializers.CharField(allow_blank=True), required=False)
    groupLabels = serializers.DictField(child=serializers.CharField(allow_blank=True), required=False)
    groupKey = serializers.CharField(required=False, allow_blank=True)
    receiver = serializers.CharField(required=False, allow_blank=True)
    status = serializers.CharField(required=False, allow_blank=True)
    externalURL = serializers.CharField(required=False, allow_blank=True)
    truncatedAlerts = serializers.IntegerField(required=False, min_value=0)


class IngestResultSerializer(serializers.Serializer):
    received = serializers.IntegerField()
    created = serializers.IntegerField()


class AlertmanagerResultSerializer(IngestResultSerializer):
    ended = serializers.IntegerField(help_text="Stored alerts this delivery resolved.")
    unassigned = serializers.IntegerField(
        help_text="Alerts with no 'company' label while the URL has no ?company=: kept as a failed source event."
    )
    source_events = serializers.ListField(child=serializers.IntegerField(), help_text="One per company of the delivery.")
