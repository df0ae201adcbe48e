"""
The input rules every ingest serializer shares: times carry their UTC offset and lie within the supported years,
numbers are not booleans, a field the serializer does not write is refused by name, and later times are not
before the earlier ones they follow.
"""
from collections.abc import Mapping

from django.db import models
from django.utils import timezone
from rest_framework import serializers

from .dates import moment_refusal

NAIVE_TIME = "Give the time with its UTC offset, e.g. 2024-01-15T10:00:00Z; a time without one is not guessed."


class AwareDateTimeField(serializers.DateTimeField):
    """An ISO 8601 time with its UTC offset, within the supported years (`companyos.api.dates`)."""

    default_error_messages = {"naive": NAIVE_TIME}

    def enforce_timezone(self, value):
        if timezone.is_naive(value):
            self.fail("naive")
        refusal = moment_refusal(value)
        if refusal:
            raise serializers.ValidationError(refusal, code="out_of_range")
        return super().enforce_timezone(value)


class NumberField(serializers.FloatField):
    """A finite number; `true` and `false` are refused rather than stored as 1 and 0."""

    default_error_messages = {"boolean": "A number is required, not true or false."}

    def to_internal_value(self, data):
        if isinstance(data, bool):
            self.fail("boolean")
        return super().to_internal_value(data)


def unknown_field_errors(data, names, message="Unknown field; the fields are {fields}."):
    """{name: [message]} for each key of `data` not in `names` (an empty dict when there is none)."""
    text = message.format(fields=", ".join(names))
    return {name: [text] for name in data if name not in names}


class RefusesUnknownFields:
    """
    A serializer mixin: a field the serializer does not write is refused naming it, instead of being dropped
    silently (a typo would otherwise change nothing and answer success).
    """

    unknown_field_message = "Unknown field; the fields are {fields}."

    def to_internal_value(self, data):
        unknown = {}
        if isinstance(data, Mapping):
            writable = [name for name, field in self.fields.items() if not field.read_only]
            unknown = unknown_field_errors(data, writable, self.unknown_field_message)
        try:
            value = super().to_internal_value(data)
        except serializers.ValidationError as error:
            if unknown and isinstance(error.detail, dict):
                raise serializers.ValidationError({**unknown, **error.detail}) from None
            raise
        if unknown:
            raise serializers.ValidationError(unknown)
        return value


def refuse_out_of_order(attrs, earlier, *later):
    """A ValidationError naming the first of the `later` times in `attrs` that is before `attrs[earlier]`."""
    start = attrs.get(earlier)
    for name in later:
        if start is not None and attrs.get(name) is not None and attrs[name] < start:
            message = f"{attrs[name].isoformat()} is before {earlier} ({start.isoformat()})."
            raise serializers.ValidationError({name: message})


class IngestModelSerializer(RefusesUnknownFields, serializers.ModelSerializer):
    """A ModelSerializer of what a data source sends: unknown fields refused, model times read as AwareDateTimeField."""

    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.DateTimeField: AwareDateTimeField,
    }
