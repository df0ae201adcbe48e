"""A report's period: a calendar month, or any run of whole UTC days up to a year, and the period it is compared with."""
import datetime
from dataclasses import dataclass

from django.core.exceptions import ValidationError

from companyos.api.dates import read_day
from scoring.services import day_bounds

# The longest period one report covers: a year, leap year included.
MAX_PERIOD_DAYS = 366


@dataclass(frozen=True)
class Period:
    """Whole UTC days from `start` to `end`, both included."""

    start: datetime.date
    end: datetime.date

    @property
    def days(self):
        return (self.end - self.start).days + 1

    @property
    def moments(self):
        """[start, end) as UTC datetimes, for the queries of times."""
        return day_bounds(self.start)[0], day_bounds(self.end)[1]

    @property
    def is_month(self):
        return self.start.day == 1 and self.end == month_of(self.start).end

    def previous(self):
        """The period it is compared with: the month before a month, else as many days just before it."""
        if self.is_month:
            return month_of(self.start - datetime.timedelta(days=1))
        return Period(self.start - datetime.timedelta(days=self.days), self.start - datetime.timedelta(days=1))

    def label(self):
        if self.is_month:
            return f"{self.start:%B %Y}"
        return f"{self.start:%-d %b %Y} to {self.end:%-d %b %Y}"


def month_of(day):
    """The calendar month containing `day`."""
    start = day.replace(day=1)
    following = (start + datetime.timedelta(days=32)).replace(day=1)
    return Period(start, following - datetime.timedelta(days=1))


def read_month(text, *, field="month"):
    """The Period of a month written YYYY-MM; a ValidationError naming `field` otherwise."""
    try:
        return month_of(read_day(f"{text}-01"))
    except ValueError:
        raise ValidationError({field: f"'{text}' is not a month (YYYY-MM) within the supported years."}) from None


def period_between(start, end, *, field="start"):
    """The Period from `start` to `end` (dates, inclusive); a ValidationError naming `field` when out of order or too long."""
    if end < start:
        raise ValidationError({field: f"{start} is after the period's end ({end})."})
    period = Period(start, end)
    if period.days > MAX_PERIOD_DAYS:
        raise ValidationError({field: f"A report covers at most a year ({MAX_PERIOD_DAYS} days); {start} to {end} is {period.days}."})
    return period


def month_before(day):
    """The calendar month before the one containing `day`."""
    return month_of(day.replace(day=1) - datetime.timedelta(days=1))
