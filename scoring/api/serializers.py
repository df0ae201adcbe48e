"""The shapes of the score series (`scoring.scorecards.score_series`), for the schema: the view answers the dicts as built."""
from rest_framework import serializers


class ScoreBandSerializer(serializers.Serializer):
    key = serializers.CharField()
    name = serializers.CharField()
    colour = serializers.CharField()
    action = serializers.CharField()


class ScoreCompositePartSerializer(serializers.Serializer):
    """A dimension counted in the composite: its weight, share of the weights counted, and score."""

    dimension = serializers.CharField()
    weight = serializers.FloatField()
    share = serializers.FloatField()
    score = serializers.FloatField()


class ScoreDaySerializer(serializers.Serializer):
    date = serializers.DateField()
    composite = serializers.FloatField(allow_null=True)
    band = ScoreBandSerializer(allow_null=True, help_text="The composite's band; null without a composite.")
    composite_parts = ScoreCompositePartSerializer(many=True)
    dimensions = serializers.DictField(child=serializers.FloatField(allow_null=True), help_text="Each dimension's score.")
    dimension_parts = serializers.DictField(child=serializers.JSONField(), help_text="Each dimension's KPIs and weights.")


class ScoreSeriesSerializer(serializers.Serializer):
    company = serializers.CharField()
    scope = serializers.CharField()
    since = serializers.DateField()
    until = serializers.DateField()
    series = ScoreDaySerializer(many=True, help_text="Oldest first.")
