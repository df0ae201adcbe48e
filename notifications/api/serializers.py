from collections.abc import Mapping

from rest_framework import serializers

from tenancy.access import visible_companies
from tenancy.models import Company

from ..models import Channel, Subscription

# The JSON type each kind of field takes: a value of another type is refused, not converted ("1" is not true).
JSON_TYPES = (
    (serializers.BooleanField, bool),
    (serializers.PrimaryKeyRelatedField, int),
    (serializers.IntegerField, int),
    (serializers.CharField, str),
    (serializers.ChoiceField, str),
    (serializers.SlugRelatedField, str),
)


class OwnModelSerializer(serializers.ModelSerializer):
    """A person's own row: a value of the wrong JSON type is refused, naming the field."""

    def to_internal_value(self, data):
        if isinstance(data, Mapping):
            wrong = {name: [f"Expected {_json_name(expected)}."] for name, expected in self._expected_types(data).items()}
            if wrong:
                raise serializers.ValidationError(wrong)
        return super().to_internal_value(data)

    def _expected_types(self, data):
        wrong = {}
        for name, value in data.items():
            field = self.fields.get(name)
            if field is None or field.read_only or (value is None and field.allow_null):
                continue
            expected = next((json_type for kind, json_type in JSON_TYPES if isinstance(field, kind)), None)
            if expected is not None and (not isinstance(value, expected) or (expected is int and isinstance(value, bool))):
                wrong[name] = expected
        return wrong


def _json_name(json_type):
    return {bool: "true or false", int: "a whole number", str: "a string"}[json_type]


class ChannelSerializer(OwnModelSerializer):
    """A person's own channel. A signed webhook's `secret` is in the answer that made it (or `new_secret`), never again."""

    new_secret = serializers.BooleanField(write_only=True, required=False, default=False,
                                          help_text="Signed webhooks: make a new signing secret (shown in this answer only).")

    class Meta:
        model = Channel
        fields = ["id", "name", "kind", "address", "url", "rate_per_minute", "active", "secret_set_at", "created_at", "new_secret"]
        read_only_fields = ["secret_set_at", "created_at"]
        # Taken as sent: trimmed first, a name of spaces and 100 characters would pass its schema's maxLength of 100.
        extra_kwargs = {"name": {"trim_whitespace": False}}

    def to_representation(self, channel):
        shown = super().to_representation(channel)
        if self.context.get("show_secret") and channel.secret:
            shown["secret"] = channel.secret
        return shown


class SubscriptionSerializer(OwnModelSerializer):
    """A person's own subscription: an event, one of their channels, optionally one of their companies."""

    channel = serializers.PrimaryKeyRelatedField(queryset=Channel.objects.none())
    company = serializers.SlugRelatedField(slug_field="slug", queryset=Company.objects.none(), required=False, allow_null=True)

    class Meta:
        model = Subscription
        fields = ["id", "event", "channel", "company", "owned_only", "active", "is_default", "created_at"]
        read_only_fields = ["is_default", "created_at"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None and request.user.is_authenticated:
            self.fields["channel"].queryset = Channel.objects.filter(owner=request.user)
            self.fields["company"].queryset = visible_companies(request.user)
