"""
The dates and times the portal takes from outside (API bodies and query parameters, cockpit links): ISO 8601, real
calendar dates, within the years FIRST_YEAR to LAST_YEAR (UTC), and times with their UTC offset. Anything else is
refused with a message saying why, so no request reaches date arithmetic that overflows or a database that refuses it.
"""
import dataclasses
import datetime
import re

from django.utils.dateparse import parse_date, parse_datetime
from rest_framework.exceptions import ValidationError

FIRST_YEAR = 2000
LAST_YEAR = 2100
EARLIEST = datetime.datetime(FIRST_YEAR, 1, 1, tzinfo=datetime.timezone.utc)
END = datetime.datetime(LAST_YEAR + 1, 1, 1, tzinfo=datetime.timezone.utc)
OUT_OF_RANGE = f"outside the supported years {FIRST_YEAR}-{LAST_YEAR}"

# The longest period a time range or a start-end pair may cover: a year with its leap day. The figures over a period
# are recomputed from its raw rows per request; a longer span is asked for in pieces.
MAX_PERIOD_DAYS = 366
MAX_PERIOD = datetime.timedelta(days=MAX_PERIOD_DAYS)
DEFAULT_TIME_RANGE = "24h"
TIME_RANGE_UNITS = {"h": datetime.timedelta(hours=1), "d": datetime.timedelta(days=1)}
TIME_RANGE_SHAPE = re.compile(r"(?P<count>[0-9]{1,6})(?P<unit>[hd])")


def day_refusal(day):
    """Why `day` is refused, or None."""
    if not FIRST_YEAR <= day.year <= LAST_YEAR:
        return f"{day.isoformat()} is {OUT_OF_RANGE}."
    return None


def moment_refusal(moment):
    """Why the aware datetime `moment` is refused, or None. Checked on its own year first: 0001 or 9999 with an
    offset cannot even be converted to UTC."""
    if not FIRST_YEAR - 1 <= moment.year <= LAST_YEAR + 1 or not EARLIEST <= moment.astimezone(datetime.timezone.utc) < END:
        return f"{moment.isoformat()} is {OUT_OF_RANGE} (UTC)."
    return None


def read_day(text):
    """The date `text` names (YYYY-MM-DD); ValueError saying why it is not one."""
    try:
        day = parse_date(text)
    except ValueError as error:  # the right shape, but no such day (2026-02-30)
        raise ValueError(f"'{text}' is not a date: {error}.") from None
    if day is None:
        raise ValueError(f"'{text}' is not a date (YYYY-MM-DD).")
    refusal = day_refusal(day)
    if refusal:
        raise ValueError(refusal)
    return day


def read_moment(text):
    """The aware time `text` names (ISO 8601 with its offset); ValueError saying why it is not one."""
    try:
        moment = parse_datetime(text)
    except ValueError as error:
        raise ValueError(f"'{text}' is not a time: {error}.") from None
    if moment is None:
        raise ValueError(f"'{text}' is not an ISO 8601 time, e.g. 2024-01-15T10:00:00Z.")
    if moment.tzinfo is None:
        raise ValueError(f"'{text}' has no UTC offset; give one, e.g. 2024-01-15T10:00:00Z.")
    refusal = moment_refusal(moment)
    if refusal:
        raise ValueError(refusal)
    return moment


def _param(params, name, read):
    value = params.get(name)
    if value is None:
        return None
    if not value:  # given, but empty: refused like any other value that is not one, not read as absent
        raise ValidationError({name: ["Give a value, or leave the parameter out."]})
    try:
        return read(value)
    except ValueError as error:
        raise ValidationError({name: [str(error)]}) from None


def day_param(params, name):
    """The query parameter `name` as a date, None when absent; a 400 naming it when it is not a supported date."""
    return _param(params, name, read_day)


def moment_param(params, name):
    """The query parameter `name` as an aware time, None when absent; a 400 naming it when it is not a supported time."""
    return _param(params, name, read_moment)


def read_time_range(text):
    """The length `text` names: `<n>h` or `<n>d`, from 1h to MAX_PERIOD; ValueError saying why it is not one."""
    shape = TIME_RANGE_SHAPE.fullmatch(text)
    if shape is None:
        raise ValueError(f"'{text}' is not a time range: give hours or days as <n>h or <n>d, e.g. 12h or 30d.")
    length = int(shape["count"]) * TIME_RANGE_UNITS[shape["unit"]]
    if not length:
        raise ValueError(f"'{text}' is an empty time range: give at least 1h.")
    if length > MAX_PERIOD:
        raise ValueError(f"'{text}' is longer than the longest time range, {MAX_PERIOD_DAYS}d ({MAX_PERIOD_DAYS * 24}h).")
    return length


def read_bound(text, *, is_end):
    """
    The moment `text` names as a period's start or end: an ISO 8601 time with its offset, or a date, which starts at
    00:00 UTC and, as an end, includes its whole day (ends at the next day's 00:00 UTC). ValueError saying why not.
    """
    if len(text) == len("YYYY-MM-DD"):
        day = read_day(text)
        moment = datetime.datetime.combine(day, datetime.time.min, tzinfo=datetime.timezone.utc)
        return moment + datetime.timedelta(days=1) if is_end else moment
    return read_moment(text)


@dataclasses.dataclass(frozen=True)
class Period:
    """A measurement period from `start` (included) to `end` (excluded); `label` is how it was asked for (`30d`)."""

    start: datetime.datetime
    end: datetime.datetime
    label: str


def period_ending(end, time_range):
    """The period of the time range `time_range` (e.g. "30d") ending at `end`."""
    return Period(start=end - read_time_range(time_range), end=end, label=time_range)


def period_param(params, *, default=DEFAULT_TIME_RANGE, now=None):
    """
    The period a request's query names, for every endpoint that takes `timeRange`:
    - `timeRange` (`<n>h` or `<n>d`, default `default`) ending at `end` (alias `until`; default now), or
    - `start` to `end` (dates or ISO 8601 times with their offset; an `end` date includes its day; `end` default now),
    at most MAX_PERIOD_DAYS days long. `timeRange` and `start` together are refused. A 400 naming the parameter at
    fault. The label is the time range as asked (`12h`), or `<start>/<end>` (ISO 8601 interval) for a start and end.
    """
    if params.get("end") and params.get("until"):
        raise ValidationError({"end": ["Give end or until (the same thing), not both."]})
    end_name = "end" if params.get("end") else "until"
    end = _param(params, end_name, lambda text: read_bound(text, is_end=True))
    end = end or now or datetime.datetime.now(datetime.timezone.utc)
    start = _param(params, "start", lambda text: read_bound(text, is_end=False))
    time_range = params.get("timeRange")
    if start is None:
        text = time_range or default
        try:
            return period_ending(end, text)
        except ValueError as error:
            raise ValidationError({"timeRange": [str(error)]}) from None
    if time_range:
        raise ValidationError({"timeRange": ["Give timeRange or start (with end), not both."]})
    if start >= end:
        raise ValidationError({"start": [f"{start.isoformat()} is not before the end, {end.isoformat()}."]})
    if end - start > MAX_PERIOD:
        raise ValidationError({"start": [f"From start to end is longer than the longest period, {MAX_PERIOD_DAYS} days."]})
    return Period(start=start, end=end, label=f"{start.isoformat()}/{end.isoformat()}")
