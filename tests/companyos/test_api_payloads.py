"""Validating ingested rows: the fast path for common inputs gives exactly what the serializer's own fields give."""
import datetime
import zoneinfo
from http import HTTPStatus

import pytest
from django.core.validators import RegexValidator
from django.utils import timezone
from rest_framework import serializers
from rest_framework.exceptions import ValidationError

from companyos.api.payloads import UNDECIDED, fast_path, validated_rows
from kpis.api.serializers import ObservationInSerializer


class LowercaseField(serializers.CharField):
    def to_internal_value(self, data):
        return super().to_internal_value(data).lower()


class Text(str):
    """A str subclass, as a parser other than JSON's may give."""


class Row(serializers.Serializer):
    """A field of each kind the fast path knows, with and without limits, and some it must leave alone."""

    slug = serializers.CharField(max_length=8, required=False)
    untrimmed = serializers.CharField(trim_whitespace=False, min_length=3, required=False)
    blank_allowed = serializers.CharField(allow_blank=True, required=False)
    lowercase = serializers.CharField(validators=[RegexValidator("^[a-z]+$")], required=False)
    lowercased = LowercaseField(required=False)
    email = serializers.EmailField(required=False)
    count = serializers.IntegerField(min_value=1, required=False)
    capped = serializers.IntegerField(max_value=10, required=False)
    number = serializers.FloatField(required=False)
    share = serializers.FloatField(min_value=0, max_value=1, required=False)
    moment = serializers.DateTimeField(required=False)
    paris_moment = serializers.DateTimeField(default_timezone=zoneinfo.ZoneInfo("Europe/Paris"), required=False)
    day_first = serializers.DateTimeField(input_formats=["%d/%m/%Y %H:%M"], required=False)


STRINGS = [
    "acme", "  acme\t", "", "   ", "a" * 8, "a" * 9, " " + "a" * 8 + " ", "ab", " ab", "abc", "Acme",
    "ünïcode", "nul\x00", "\ud800", "\u00a0nbsp\u2003", "me@example.com", Text("text"), 5, 5.5, True, None, [], {"a": 1},
]
INTEGERS = [
    1, 0, -1, 10, 11, HTTPStatus.OK, 2**63 - 1, 2**63, -(2**63), 10**5000, "5", "5.0", " 7 ", 5.0, 5.5, True, False, None,
    "abc", float("nan"), float("inf"), [],
]
FLOATS = [
    0, 1, 0.5, -0.0, HTTPStatus.OK, 1.0000001, -1e-9, 50.0, 1e308, 2**63, 2**63 + 1, 10**400, float("nan"), float("inf"),
    float("-inf"), True, False, "1.5", " 2 ", "nan", "x" * 1001, None, [],
]
DATETIMES = [
    "2024-01-15T00:00:00Z", "2024-01-15T00:00:00+00:00", "2024-01-15T10:30:00+05:30", "2024-01-15T10:30:00.1234-08:00",
    "2024-01-15T00:00:00", "2024-01-15", " 2024-01-15T00:00:00Z", "2024-01-15T00:00:00Z ", "20240115T000000Z",
    "2024-01-15 00:00:00+01:00", "2024-03-31T02:30:00", "0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00",
    "2024-02-30T00:00:00Z", "2024-01-15T00:00:00+25:00", "15/01/2024 10:30", "not a date", "", 1705276800, None, True,
    datetime.datetime(2024, 1, 15, tzinfo=datetime.timezone.utc), datetime.datetime(2024, 1, 15), datetime.date(2024, 1, 15),
]
CASES = [
    *((name, data) for name in ("slug", "untrimmed", "blank_allowed", "lowercase", "lowercased", "email") for data in STRINGS),
    *((name, data) for name in ("count", "capped") for data in INTEGERS),
    *((name, data) for name in ("number", "share") for data in FLOATS),
    *((name, data) for name in ("moment", "paris_moment", "day_first") for data in DATETIMES),
]


def outcome(validate):
    """What a validation gives, comparable exactly: the value's type and repr (time zone, -0.0), or the errors."""
    try:
        value = validate()
    except ValidationError as error:
        return "refused", error.detail
    return type(value), repr(value)


def through_validated_rows(name, data):
    try:
        [values] = validated_rows(Row, [{name: data}])
    except ValidationError as error:
        raise ValidationError(error.detail[0][name]) from error
    return values[name]


@pytest.mark.parametrize("current_zone", ["UTC", "Asia/Kolkata"])
@pytest.mark.parametrize(("name", "data"), CASES, ids=[f"{name}-{index}" for index, (name, _) in enumerate(CASES)])
def test_validated_rows_give_what_the_field_gives(name, data, current_zone):
    field = Row().fields[name]
    with timezone.override(zoneinfo.ZoneInfo(current_zone)):
        expected = outcome(lambda: field.run_validation(data))

        assert outcome(lambda: through_validated_rows(name, data)) == expected


def test_the_common_inputs_of_an_observation_take_the_fast_path():
    fields = ObservationInSerializer().fields
    row = {
        "kpi": "slo-attainment", "company": "comp-acme", "domain": "api", "service": "gateway", "incident": 7,
        "observed_at": "2024-01-15T00:00:00Z", "value": 99, "confidence": 0.5,
    }

    decided = {name: fast_path(fields[name])(data) for name, data in row.items()}

    assert UNDECIDED not in decided.values()
    assert decided["observed_at"] == datetime.datetime(2024, 1, 15, tzinfo=datetime.timezone.utc)
    assert decided["value"] == 99.0


def test_fields_with_their_own_checks_or_formats_have_no_fast_path():
    fields = Row().fields

    assert [name for name in ("lowercase", "lowercased", "email", "day_first") if fast_path(fields[name]) is not None] == []


def test_every_bad_row_is_reported_by_its_position_and_fields():
    rows = [
        {"kpi": "nps", "observed_at": "2024-01-15T00:00:00Z", "value": 40},
        {"kpi": "k" * 65, "observed_at": "2024-01-15T00:00:00", "value": float("nan")},
        {"kpi": "nps", "observed_at": "2024-01-15T00:00:00Z", "value": True, "incident": 0},
    ]

    with pytest.raises(ValidationError) as refused:
        validated_rows(ObservationInSerializer, rows)

    # Row 1's time has no offset and its value is NaN; row 2's value is a boolean, not a number.
    assert {row: sorted(fields) for row, fields in refused.value.detail.items()} == {
        1: ["kpi", "observed_at", "value"], 2: ["incident", "value"]
    }
    assert refused.value.detail[1]["kpi"] == ["Ensure this field has no more than 64 characters."]
