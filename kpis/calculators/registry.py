"""
The registry of KPI formulas: each computed KPI's slug maps to its calculator (and, for daily company KPIs, to
the evidence behind a value). Apps register theirs with `@calculator` and `@evidence` in their `calculators`
module, which `kpis` autodiscovers.

A calculator is a function of (period, company_id) returning observation rows, computed set-based in SQL (a
queryset, or RowsSQL where the ORM cannot say it). Every row has the columns of `ROW_COLUMNS`; rows whose value is
NULL mean "no data" and are never stored (no fake zeros). Two grains:
- INCIDENT: one observation per incident, scoped to the incident's company, domain and service, at the moment the
  value became known. The period filters on that moment.
- DAY: one observation per company and UTC day, at the day's 00:00, for every day of the period. A DAY calculator
  is given a day at a time, or (`many_days`) runs of days it computes in one statement.
"""
import datetime
from dataclasses import dataclass
from typing import Callable, NamedTuple

from django.db.models import QuerySet

INCIDENT = "incident"
DAY = "day"
GRAINS = (INCIDENT, DAY)

# The seed measures MTTR reduction and self-healing over 30 days and targets P1 incidents per month.
ROLLING_WINDOW = datetime.timedelta(days=30)
ONE_DAY = datetime.timedelta(days=1)
# The longest run of days one statement computes: each run re-reads the window before its first day, and a
# crashed backfill redoes at most one run.
DAYS_PER_STATEMENT = 92

# The columns every calculator's queryset selects, in this order; kpis.observations inserts them.
ROW_COLUMNS = ("obs_company", "obs_domain", "obs_service", "obs_incident", "obs_observed_at", "obs_value", "obs_confidence")


class Period(NamedTuple):
    """A half-open time range [start, end) of aware datetimes."""

    start: datetime.datetime
    end: datetime.datetime

    @classmethod
    def of_day(cls, day):
        """The UTC day `day` (a date), 00:00 to 00:00."""
        start = datetime.datetime.combine(day, datetime.time.min, tzinfo=datetime.timezone.utc)
        return cls(start, start + ONE_DAY)

    def days(self):
        """The UTC days whose 00:00 lies in this period, as one-day periods."""
        first = self.start.astimezone(datetime.timezone.utc)
        day = first.date() if first.time() == datetime.time.min else first.date() + ONE_DAY
        periods = []
        while (period := Period.of_day(day)).start < self.end:
            periods.append(period)
            day += ONE_DAY
        return periods


class RowsSQL(NamedTuple):
    """A hand-written SELECT and its parameters (a calculator's selects the columns of ROW_COLUMNS)."""

    sql: str
    params: list


def as_sql(rows):
    """`rows`, a queryset or RowsSQL, as RowsSQL."""
    return rows if isinstance(rows, RowsSQL) else RowsSQL(*rows.query.sql_with_params())


@dataclass(frozen=True)
class Calculator:
    """
    A registered formula: `rows(period, company_id)` returns the observation rows of `slug`, as a queryset or as
    RowsSQL. A DAY calculator is given one day at a time, or with `many_days` a run of up to DAYS_PER_STATEMENT days
    that it computes in one statement. `reads_correlation`: it counts what alert correlation made, so a day with
    alerts not yet correlated has no value (the calculator's own rule), and a backfill correlates first.
    """

    slug: str
    grain: str
    rows: Callable[[Period, int | None], QuerySet | RowsSQL]
    many_days: bool = False
    reads_correlation: bool = False

    def periods(self, period):
        """The chunks one computation of `period` is split into: the whole period, days, or runs of days."""
        if self.grain == INCIDENT:
            return [period]
        days = period.days()
        if not self.many_days:
            return days
        runs = (days[first:first + DAYS_PER_STATEMENT] for first in range(0, len(days), DAYS_PER_STATEMENT))
        return [Period(run[0].start, run[-1].end) for run in runs]

    def sql(self, period, company_id):
        """The SELECT of the rows of `period` and its parameters."""
        return as_sql(self.rows(period, company_id))

    @property
    def inputs(self):
        """What the KPI is computed from and where a data source sends that (`computed_from` of its module)."""
        return INPUTS.get(self.rows.__module__, "the data its calculator reads")


CALCULATORS: dict[str, Calculator] = {}

# Per calculators module (its __name__): what its KPIs are computed from, and where that is sent.
INPUTS: dict[str, str] = {}


def computed_from(module, inputs):
    """Record that the KPIs the calculators module `module` registers are computed from `inputs` (text for people)."""
    INPUTS[module] = inputs


@dataclass(frozen=True)
class Evidence:
    """
    The numbers behind a daily company KPI: `figures(company, start, end)` gives them for any period (None
    without data); a day's value covers the `window` ending with the day; `incidents_by` names the incident
    time the figures count incidents by ("detected", "resolved"), or None when they are not about incidents.
    """

    figures: Callable
    window: datetime.timedelta
    incidents_by: str | None


EVIDENCE: dict[str, Evidence] = {}


class UnknownCalculator(LookupError):
    """The slug has no calculator: it is unknown or ingest-only."""


def calculator(slug, *, grain, many_days=False, reads_correlation=False):
    """Register the decorated function as the calculator of `slug` (see Calculator for the options)."""
    if grain not in GRAINS:
        raise ValueError(f"Unknown grain '{grain}' for '{slug}'; use one of {', '.join(GRAINS)}.")

    def register(function):
        if slug in CALCULATORS:
            raise ValueError(f"The KPI '{slug}' already has a calculator.")
        CALCULATORS[slug] = Calculator(
            slug=slug, grain=grain, rows=function, many_days=many_days, reads_correlation=reads_correlation
        )
        return function

    return register


def evidence(slug, *, window=ONE_DAY, incidents_by=None):
    """Register the decorated function as the figures of `slug`'s Evidence (the cockpit shows them)."""

    def register(function):
        if slug in EVIDENCE:
            raise ValueError(f"The KPI '{slug}' already has evidence.")
        EVIDENCE[slug] = Evidence(function, window, incidents_by)
        return function

    return register


def get_calculator(slug):
    """The calculator of `slug`, or UnknownCalculator naming it."""
    try:
        return CALCULATORS[slug]
    except KeyError:
        raise UnknownCalculator(f"The KPI '{slug}' has no calculator (it is unknown or ingest-only).") from None
