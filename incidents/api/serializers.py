from rest_framework import serializers

from incidents.models import Incident


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
