from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from companyos.api.fields import AwareDateTimeField, NumberField, RefusesUnknownFields
from kpis.models import KpiChangeProposal, KpiDefinition, Observation
from kpis.openslo import IMPORT_ACTIONS


class ThresholdsInForceSerializer(serializers.Serializer):
    """The target and critical threshold the definition's schedule sets for a day."""

    on = serializers.DateField()
    target = serializers.FloatField(allow_null=True)
    critical = serializers.FloatField(allow_null=True)


class KpiDefinitionSerializer(serializers.ModelSerializer):
    owner = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    in_force_today = serializers.SerializerMethodField(
        help_text="The target and critical threshold in force today: the schedule's latest entry dated on or before today, else the defaults."
    )

    class Meta:
        model = KpiDefinition
        fields = [
            "slug", "name", "description", "formula", "units", "direction", "target", "critical_threshold",
            "targets", "target_schedule", "in_force_today", "data_sources", "visibility", "owner", "owner_role", "review_cadence", "dimension",
            "weight", "status", "breach_after", "retention_class", "slo_objective", "slo_period_days",
            "sli_good_promql", "sli_total_promql", "last_reviewed_at", "next_review_due",
            "created_at", "updated_at",
        ]
        read_only_fields = fields

    @extend_schema_field(ThresholdsInForceSerializer)
    def get_in_force_today(self, definition):
        today = timezone.localdate()
        target, critical = definition.thresholds_on(today)
        return {"on": today, "target": target, "critical": critical}


class KpiDefinitionChangeSerializer(RefusesUnknownFields, serializers.ModelSerializer):
    """
    A PATCH of a definition: the changed fields plus the reason recorded in history. Any other field (the owner,
    the slug, a typo) is refused naming it, rather than ignored with a 200 that changed nothing.
    """

    unknown_field_message = "Not a field a change of a definition sets; those are {fields}."

    change_reason = serializers.CharField(
        write_only=True, trim_whitespace=True, help_text="Why the definition changes; recorded in its history."
    )

    class Meta:
        model = KpiDefinition
        fields = [
            "name", "description", "formula", "units", "direction", "target", "critical_threshold", "targets",
            "target_schedule", "data_sources", "visibility", "owner_role", "review_cadence", "dimension", "weight", "status",
            "breach_after", "retention_class", "slo_objective", "slo_period_days", "sli_good_promql",
            "sli_total_promql", "change_reason",
        ]
        extra_kwargs = {"slug": {"read_only": True}}

    def validate(self, attrs):
        if "change_reason" not in attrs:
            raise serializers.ValidationError({"change_reason": "A reason for the change is required."})
        return attrs


class KpiChangeProposalSerializer(serializers.ModelSerializer):
    """A proposed change of a definition's score-moving fields, and its decision once made."""

    kpi = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    author = serializers.SlugRelatedField(slug_field="username", read_only=True)
    decided_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)

    class Meta:
        model = KpiChangeProposal
        fields = [
            "id", "kpi", "status", "author", "reason", "changes", "base_history_id", "created_at", "decided_by",
            "decided_at", "decision_comment", "emergency_reason", "applied_history_id",
        ]
        read_only_fields = fields


class ProposalRejectionSerializer(serializers.Serializer):
    comment = serializers.CharField(trim_whitespace=True, help_text="Why; recorded with the decision and e-mailed.")


class ProposalApprovalSerializer(ProposalRejectionSerializer):
    emergency_reason = serializers.CharField(
        required=False,
        allow_blank=True,
        trim_whitespace=True,
        help_text="Only for a superuser approving their own proposal; recorded and listed for auditors.",
    )


class ObservationSerializer(serializers.ModelSerializer):
    kpi = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    company = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    domain = serializers.SlugRelatedField(slug_field="slug", read_only=True, allow_null=True)
    service = serializers.SlugRelatedField(slug_field="slug", read_only=True, allow_null=True)

    class Meta:
        model = Observation
        fields = [
            "id", "kpi", "company", "domain", "service", "incident", "observed_at", "value", "source",
            "confidence", "run", "computed_at",
        ]
        read_only_fields = fields


class ObservationInSerializer(serializers.Serializer):
    """One observation as a data source sends it; scope by slugs, or by an incident alone."""

    kpi = serializers.CharField(max_length=64, help_text="The KPI's slug.")
    company = serializers.CharField(max_length=64, required=False, help_text="Company slug; optional with an incident.")
    domain = serializers.CharField(max_length=64, required=False)
    service = serializers.CharField(max_length=64, required=False)
    incident = serializers.IntegerField(required=False, min_value=1)
    observed_at = AwareDateTimeField()
    value = NumberField()
    confidence = NumberField(required=False, min_value=0, max_value=1)
    source = serializers.CharField(
        max_length=32, required=False,
        help_text="Who measured it, e.g. ssm-worker: 1-32 lowercase letters, digits, '-', '.', '_'; default api. "
        "The portal's own sources (nightly, backfill, prometheus, demo) are refused.",
    )


class ObservationIngestResultSerializer(serializers.Serializer):
    created = serializers.IntegerField()


class FieldChangeSerializer(serializers.Serializer):
    """One field of a version: its value before (null for a creation) and after, as stored (any JSON type)."""

    field = serializers.CharField()
    old = serializers.JSONField(allow_null=True)
    new = serializers.JSONField(allow_null=True)


class ChangeLogEntrySerializer(serializers.Serializer):
    """One version of a definition (kpis.history.ChangeLogEntry.as_dict): who, when, why and each changed field."""

    slug = serializers.CharField()
    version = serializers.IntegerField(allow_null=True)
    change_type = serializers.CharField()
    user = serializers.CharField()
    when = serializers.DateTimeField()
    reason = serializers.CharField(allow_blank=True)
    changes = FieldChangeSerializer(many=True)
    proposal = serializers.IntegerField(allow_null=True, help_text="The proposal this version put in force, if any.")


class OpenSloExportSerializer(serializers.Serializer):
    document = serializers.CharField(
        allow_blank=True, help_text="OpenSLO v1 YAML: one `kind: SLO` document per SLO, separated by ---; empty without SLOs."
    )


class OpenSloImportSerializer(RefusesUnknownFields, serializers.Serializer):
    """An import of OpenSLO SLOs: the YAML and the reason recorded with every change and proposal it makes."""

    document = serializers.CharField(
        trim_whitespace=False, help_text="OpenSLO v1 YAML: one or more `kind: SLO` documents, separated by ---."
    )
    change_reason = serializers.CharField(trim_whitespace=True, help_text="Why; recorded in history and on proposals.")


class OpenSloImportOutcomeSerializer(serializers.Serializer):
    slug = serializers.CharField()
    action = serializers.ChoiceField(choices=IMPORT_ACTIONS)
    proposal_id = serializers.IntegerField(allow_null=True)
