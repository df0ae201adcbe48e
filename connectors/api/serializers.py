from rest_framework import serializers

from connectors.models import SourceEvent


class SourceEventSerializer(serializers.ModelSerializer):
    company = serializers.SlugRelatedField(slug_field="slug", read_only=True, allow_null=True)
    received_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)

    class Meta:
        model = SourceEvent
        fields = ["id", "source", "event_type", "delivery_id", "integration", "company", "received_at",
                  "received_by", "status", "detail", "produced", "payload", "raw"]
        read_only_fields = fields


class ReceivedSerializer(serializers.Serializer):
    """The answer to a delivery or upload: the event that keeps it and what it produced."""

    event = serializers.IntegerField(source="event.pk")
    status = serializers.CharField(source="event.status")
    detail = serializers.CharField(source="event.detail")
    redelivery = serializers.SerializerMethodField()
    produced = serializers.JSONField(source="event.produced")

    def get_redelivery(self, received) -> bool:
        return not received.created
