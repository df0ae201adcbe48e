from rest_framework import serializers

from companyos.api.fields import AwareDateTimeField, NumberField, RefusesUnknownFields
from kpis.models import KpiChangeProposal, KpiDefinition, Observation


class KpiDefinitionSerializer(serializers.ModelSerializer):
    owner = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)

    class Meta:
        model = KpiDefinition
        fields = [
            "slug", "name", "description", "formula", "units", "direction", "target", "critical_threshold",
            "targets", "data_sources", "visibility", "owner", "owner_role", "review_cadence", "dimension",
            "weight", "status", "breach_after", "retention_class", "last_reviewed_at", "next_review_due",
            "created_at", "updated_at",
        ]
        read_only_fields = fields


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
            "data_sources", "visibility", "owner_role", "review_cadence", "dimension", "weight", "status",
            "breach_after", "retention_class", "change_reason",
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
    domain = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    service = serializers.SlugRelatedField(slug_field="slug", read_only=True)

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


class ObservationIngestResultSerializer(serializers.Serializer):
    created = serializers.IntegerField()
