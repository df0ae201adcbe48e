"""
The dates and times the portal takes from outside (API bodies and query parameters, cockpit links): ISO 8601, real
calendar dates, within the years FIRST_YEAR to LAST_YEAR (UTC), and times with their UTC offset. Anything else is
refused with a message saying why, so no request reaches date arithmetic that overflows or a database that refuses it.
"""
import datetime

from django.utils.dateparse import parse_date, parse_datetime
from rest_framework.exceptions import ValidationError

FIRST_YEAR = 2000
LAST_YEAR = 2100
EARLIEST = datetime.datetime(FIRST_YEAR, 1, 1, tzinfo=datetime.timezone.utc)
END = datetime.datetime(LAST_YEAR + 1, 1, 1, tzinfo=datetime.timezone.utc)
OUT_OF_RANGE = f"outside the supported years {FIRST_YEAR}-{LAST_YEAR}"


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
    if not value:
        return None
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
