import datetime
import math

from django.core.validators import (
    MaxLengthValidator,
    MaxValueValidator,
    MinLengthValidator,
    MinValueValidator,
    ProhibitNullCharactersValidator,
)
from rest_framework import ISO_8601, serializers
from rest_framework.exceptions import ValidationError
from rest_framework.settings import api_settings
from rest_framework.validators import ProhibitSurrogateCharactersValidator

from .dates import EARLIEST, END
from .fields import AwareDateTimeField, NumberField, unknown_field_errors

# The most rows one ingestion request may carry; bigger loads are split by the sender.
MAX_ROWS_PER_REQUEST = 10_000

# What a fast path returns for an input it leaves to the field's own run_validation.
UNDECIDED = object()

# Integers beyond 64 bits go through the field: DRF turns them into text, which Python refuses past
# 4,300 digits, and a database column would not hold them anyway.
LARGEST_FAST_INTEGER = 2**63 - 1


def rows_of(request, *, limit=MAX_ROWS_PER_REQUEST):
    """The request body as a list of objects: one object or a list of up to `limit`."""
    rows = request.data if isinstance(request.data, list) else [request.data]
    if not rows or not all(isinstance(row, dict) for row in rows):
        raise ValidationError({"non_field_errors": ["Send one JSON object or a list of objects (not an empty one)."]})
    if len(rows) > limit:
        raise ValidationError({"non_field_errors": [f"At most {limit} rows per request; this one has {len(rows)}."]})
    return rows


def validated_rows(serializer_class, rows):
    """
    `rows` validated field by field with `serializer_class`'s own fields: the same types, limits and
    messages as `serializer_class(data=rows, many=True)`, for batches of thousands. The common inputs
    of plain fields take a fast path (see `fast_path`); anything else goes through the field. Only for
    serializers without object-level validation. Errors name the row and field ("[3].observed_at");
    unknown fields are refused rather than silently dropped.
    """
    fields = serializer_class().fields
    names = frozenset(fields)
    checks = [(name, field, field.required, fast_path(field)) for name, field in fields.items()]
    validated, errors = [], {}
    for index, row in enumerate(rows):
        values, row_errors = {}, {}
        row_errors.update(unknown_field_errors(row.keys() - names, list(fields)))
        for name, field, required, fast in checks:
            if name not in row:
                if required:
                    row_errors[name] = [str(field.error_messages["required"])]
                continue
            data = row[name]
            value = fast(data) if fast else UNDECIDED
            if value is UNDECIDED:
                try:
                    value = field.run_validation(data)
                except ValidationError as error:
                    row_errors[name] = error.detail
                    continue
            values[name] = value
        if row_errors:
            errors[index] = row_errors
        validated.append(values)
    if errors:
        raise ValidationError(errors)
    return validated


def fast_path(field):
    """
    For a plain CharField, IntegerField, FloatField (NumberField) or DateTimeField (AwareDateTimeField): a
    function returning what `field.run_validation(data)` returns for the common valid inputs (a str, an int, a
    finite float, an ISO 8601 string with an offset), and UNDECIDED for any other input, which the field then
    judges with its own messages. None for other fields, and for fields with validators of their own.
    """
    builder = FAST_PATHS.get(type(field))
    return None if builder is None or field.read_only else builder(field)


def _limits(field, lower, upper, checked_inline=()):
    """
    The tightest (low, high) bounds of `field`'s validators of the types `lower` and `upper` (None where
    there is none); None when it has a validator of another type, or a computed limit.
    """
    lows, highs = [], []
    for validator in field.validators:
        kind = type(validator)
        if kind in checked_inline:
            continue
        if kind not in (lower, upper) or callable(validator.limit_value):
            return None
        (lows if kind is lower else highs).append(validator.limit_value)
    return max(lows, default=None), min(highs, default=None)


def _fast_char(field):
    # The null and surrogate validators are checked inline: ASCII without NUL has neither.
    limits = _limits(field, MinLengthValidator, MaxLengthValidator, (ProhibitNullCharactersValidator, ProhibitSurrogateCharactersValidator))
    if limits is None:
        return None
    # A blank string is the field's to judge (allow_blank, its message): the fast path wants 1 character.
    shortest, longest = max(limits[0] or 1, 1), math.inf if limits[1] is None else limits[1]
    trim = field.trim_whitespace

    def validate(data):
        if type(data) is str:
            value = data.strip() if trim else data
            if shortest <= len(value) <= longest and value.isascii() and "\x00" not in value:
                return value
        return UNDECIDED

    return validate


def _fast_integer(field):
    limits = _limits(field, MinValueValidator, MaxValueValidator)
    if limits is None:
        return None
    low, high = limits

    def validate(data):
        # type() rather than isinstance: a bool is an int, and the field turns it into 0 or 1.
        if (
            type(data) is int
            and -LARGEST_FAST_INTEGER <= data <= LARGEST_FAST_INTEGER
            and (low is None or data >= low)
            and (high is None or data <= high)
        ):
            return data
        return UNDECIDED

    return validate


def _fast_float(field):
    limits = _limits(field, MinValueValidator, MaxValueValidator)
    if limits is None:
        return None
    low, high = limits

    def validate(data):
        kind = type(data)
        if kind is float:
            value = data
        elif kind is int and -LARGEST_FAST_INTEGER <= data <= LARGEST_FAST_INTEGER:
            value = float(data)
        else:
            return UNDECIDED
        if math.isfinite(value) and (low is None or value >= low) and (high is None or value <= high):
            return value
        return UNDECIDED

    return validate


def _fast_datetime(field):
    formats = getattr(field, "input_formats", api_settings.DATETIME_INPUT_FORMATS)
    if field.validators or not formats or formats[0].lower() != ISO_8601:
        return None
    # Decided once per batch, as the field would for each row of it (the request's current time zone).
    zone = field.timezone if hasattr(field, "timezone") else field.default_timezone()
    if zone is None:
        return None
    # An AwareDateTimeField refuses times outside the supported years: those are left to it, with its message.
    earliest, end = (EARLIEST, END) if type(field) is AwareDateTimeField else (None, None)

    def validate(data):
        # Django's parse_datetime, which the field uses for ISO 8601, is fromisoformat first.
        if type(data) is str:
            try:
                moment = datetime.datetime.fromisoformat(data)
                # Its time zone, if any, is a fixed offset: aware exactly when it has one.
                if moment.tzinfo is not None:
                    moment = moment.astimezone(zone)
                    if earliest is None or earliest <= moment < end:
                        return moment
            except (ValueError, OverflowError):
                pass
        return UNDECIDED

    return validate


# Keyed by exact type: a subclass (EmailField, a custom field) may convert or refuse differently.
FAST_PATHS = {
    serializers.CharField: _fast_char,
    serializers.IntegerField: _fast_integer,
    serializers.FloatField: _fast_float,
    serializers.DateTimeField: _fast_datetime,
    AwareDateTimeField: _fast_datetime,
    NumberField: _fast_float,
}
