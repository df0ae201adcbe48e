from rest_framework import serializers

from connectors.api.serializers import ReceivedSerializer


class ScanReceivedSerializer(ReceivedSerializer):
    """The answer to a report upload: the event, what it produced, and how many findings each outcome had."""

    counts = serializers.SerializerMethodField()

    def get_counts(self, received) -> dict[str, int]:
        """e.g. {"opened": 2, "reopened": 0, "fixed": 1, "unchanged": 5}; empty for an ignored or redelivered report."""
        produced = received.event.produced
        outcomes = produced.get("security.vulnerability") or produced.get("security.secretfinding") or {}
        return {outcome: len(keys) for outcome, keys in outcomes.items()}
