"""
The one place KPI formulas live: a registry mapping each computed KPI slug to its calculator.

A calculator is a function of (period, company_id) returning observation rows, computed set-based in SQL
(a queryset, or RowsSQL where the ORM cannot say it). Every row has the columns of `ROW_COLUMNS`; rows whose value is NULL mean "no data"
and are never stored (no fake zeros). The nightly run, backfills, the API and scoring all go through
this registry (kpis.observations writes the rows); a KPI without a calculator is ingest-only.

Two grains:
- INCIDENT: one observation per incident, scoped to the incident's company, domain and service, at the
  moment the value became known. The period filters on that moment.
- DAY: one observation per company and UTC day, at the day's 00:00, for every day of the period. A DAY
  calculator is given a day at a time, or (`many_days`) runs of days it computes in one statement; the
  rolling ones add up DailyTotals, count DistinctCounts, or join their rows to each day's window (RowsInWindows).

The `*_evidence(company, start, end)` functions give the numbers behind a company KPI (raw alerts,
sample sizes, runbooks, patch counts) for an arbitrary period, through the same row queries.
"""
import datetime
from dataclasses import dataclass
from typing import Callable, NamedTuple

from django.db import NotSupportedError, connection
from django.db.models import (
    Avg,
    BigIntegerField,
    Count,
    DateTimeField,
    Exists,
    F,
    FloatField,
    Func,
    Max,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    Window,
)
from django.db.models.expressions import RawSQL
from django.db.models.functions import Cast, Coalesce, Lag, NullIf, TruncDay
from django.db.models.sql import Query
from django.utils import timezone

from incidents.choices import Phase, Severity
from incidents.models import Alert, Incident, Milestone, PatchComplianceSnapshot, PhaseTransition, RunbookExecution, SurveyResponse
from tenancy.models import Company

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


def _as_sql(rows):
    """`rows`, a queryset or RowsSQL, as RowsSQL."""
    return rows if isinstance(rows, RowsSQL) else RowsSQL(*rows.query.sql_with_params())


@dataclass(frozen=True)
class Calculator:
    """
    A registered formula: `rows(period, company_id)` returns the observation rows of `slug`, as a queryset or as
    RowsSQL. A DAY calculator is given one day at a time, or with `many_days` a run of up to DAYS_PER_STATEMENT days
    that it computes in one statement.
    """

    slug: str
    grain: str
    rows: Callable[[Period, int | None], QuerySet | RowsSQL]
    many_days: bool = False

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
        return _as_sql(self.rows(period, company_id))


CALCULATORS: dict[str, Calculator] = {}


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


def calculator(slug, *, grain, many_days=False):
    """Register the decorated function as the calculator of `slug` (see Calculator for `many_days`)."""
    if grain not in GRAINS:
        raise ValueError(f"Unknown grain '{grain}' for '{slug}'; use one of {', '.join(GRAINS)}.")

    def register(function):
        if slug in CALCULATORS:
            raise ValueError(f"The KPI '{slug}' already has a calculator.")
        CALCULATORS[slug] = Calculator(slug=slug, grain=grain, rows=function, many_days=many_days)
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


# --- Portable expressions -------------------------------------------------------------------------


class MinutesBetween(Func):
    """Minutes from `start` to `end` (two datetimes), as a float, on PostgreSQL and SQLite."""

    output_field = FloatField()
    arity = 2

    def __init__(self, end, start, **extra):
        super().__init__(end, start, **extra)

    def as_sql(self, compiler, connection, **extra_context):
        raise NotSupportedError(f"MinutesBetween has no implementation for {connection.vendor}.")

    def as_postgresql(self, compiler, connection, **extra_context):
        template = "(CAST(EXTRACT(EPOCH FROM (%(expressions)s)) AS double precision) / 60.0)"
        return super().as_sql(compiler, connection, template=template, arg_joiner=" - ", **extra_context)

    def as_sqlite(self, compiler, connection, **extra_context):
        # julianday() is a float of days; rounding to milliseconds removes its representation noise.
        template = "(ROUND((julianday(%(expressions)s)) * 86400000.0) / 60000.0)"
        return super().as_sql(compiler, connection, template=template, arg_joiner=") - julianday(", **extra_context)


def _minutes_between_sql(end, start):
    """MinutesBetween two SQL datetime expressions, as SQL for hand-written statements."""
    sql, _ = Query(None).get_compiler(connection=connection).compile(MinutesBetween(RawSQL(end, ()), RawSQL(start, ())))
    return sql


def _from_db(value, output_field):
    """`value` read by hand-written SQL, as the ORM reads a column of `output_field` (SQLite gives timestamps as text)."""
    expression = Value(value, output_field=output_field)
    for converter in connection.ops.get_db_converters(expression):
        value = converter(value, expression, connection)
    return value


def ratio(part, whole):
    """part / whole as a float; NULL when `whole` is 0, so an empty period yields no value."""
    return Cast(part, FloatField()) / NullIf(Cast(whole, FloatField()), Value(0.0))


def percent(part, whole):
    """part / whole * 100 as a float; NULL when `whole` is 0."""
    return ratio(part, whole) * Value(100.0)


def ratio_sql(part, whole):
    """`ratio` of two SQL expressions, in SQL (FLOAT is double precision on PostgreSQL, REAL on SQLite)."""
    return f"CAST({part} AS FLOAT) / NULLIF(CAST({whole} AS FLOAT), 0.0)"


def percent_sql(part, whole):
    """`percent` of two SQL expressions, in SQL."""
    return f"{ratio_sql(part, whole)} * 100.0"


def growth_sql(now, before):
    """(now / before - 1) x 100 of two SQL expressions, in SQL; NULL when either is NULL or `before` is 0."""
    return f"{percent_sql(now, before)} - 100.0"


def _null_id():
    return Cast(Value(None), BigIntegerField())


def _company_filter(company_id, field="company_id"):
    return Q(**{field: company_id}) if company_id is not None else Q()


def _indexed_company_filter(company_id):
    """
    `company_id`'s rows, or every company's spelled as a semi-join on the companies: PostgreSQL then reads a
    time range through the table's (company, time) index a company at a time instead of scanning the table.
    """
    return _company_filter(company_id) if company_id is not None else Q(company_id__in=Company.objects.values("pk"))


def _company_rows(queryset, *, observed_at, value, confidence=1.0):
    """Company rows: `queryset` must be grouped by company with `obs_company` (and by day, for many days)."""
    return queryset.order_by().annotate(
        obs_domain=_null_id(),
        obs_service=_null_id(),
        obs_incident=_null_id(),
        obs_observed_at=observed_at,
        obs_value=value,
        obs_confidence=Value(confidence, output_field=FloatField()),
    ).values(*ROW_COLUMNS)


def _incident_rows(incidents, *, observed_at, value, confidence=1.0):
    """One row per incident of `incidents`, scoped to its company, domain and service."""
    return incidents.order_by().values(
        obs_incident=F("id"),
        obs_company=F("company_id"),
        obs_domain=F("service__domain_id"),
        obs_service=F("service_id"),
    ).annotate(
        obs_observed_at=observed_at,
        obs_value=value,
        obs_confidence=Value(confidence, output_field=FloatField()),
    ).values(*ROW_COLUMNS)


def _in_period(field, period):
    return Q(**{f"{field}__gte": period.start, f"{field}__lt": period.end})


# --- Per-incident KPIs ----------------------------------------------------------------------------


@calculator("mttr", grain=INCIDENT)
def mttr_rows(period, company_id=None):
    """Minutes from detected_at to resolved_at of each resolved incident, observed at resolved_at."""
    incidents = Incident.objects.filter(_in_period("resolved_at", period), _company_filter(company_id))
    return _incident_rows(
        incidents, observed_at=F("resolved_at"), value=MinutesBetween(F("resolved_at"), F("detected_at"))
    )


def _phase_entered(phase):
    return Subquery(
        PhaseTransition.objects.filter(incident=OuterRef("pk"), phase=phase).order_by().values("entered_at")[:1],
        output_field=DateTimeField(),
    )


@calculator("mtta", grain=INCIDENT)
def mtta_rows(period, company_id=None):
    """
    Minutes from the incident's first alert (issued_at of the earliest linked alert; without one, the
    'alert' phase's entered_at, then detected_at) to phase_entered_at(gather), observed when it entered
    gather.
    """
    first_alert = Subquery(
        Alert.objects.filter(incident=OuterRef("pk")).order_by().values("incident").annotate(first=Min("issued_at")).values("first"),
        output_field=DateTimeField(),
    )
    # Filtering through the join (not on the annotation) evaluates the subqueries only for these incidents.
    gathered = PhaseTransition.objects.filter(_in_period("entered_at", period), phase=Phase.GATHER)
    incidents = Incident.objects.filter(_company_filter(company_id), pk__in=gathered.values("incident_id")).annotate(
        gather_at=_phase_entered(Phase.GATHER),
        alerted_at=Coalesce(first_alert, _phase_entered(Phase.ALERT), F("detected_at")),
    )
    return _incident_rows(incidents, observed_at=F("gather_at"), value=MinutesBetween(F("gather_at"), F("alerted_at")))


@calculator("cadence-adherence", grain=INCIDENT)
def cadence_adherence_rows(period, company_id=None):
    """
    Percent of the incident's milestones delivered at or before their committed ETA, over all its
    milestones, observed at its last milestone's ETA (once that ETA has passed, so every ETA has).
    """
    known = Period(period.start, min(period.end, timezone.now()))
    # An incident whose last ETA is in the period has a milestone due in it: aggregate only those.
    due = Milestone.objects.filter(_in_period("committed_eta", known)).values("incident_id")
    incidents = (
        Incident.objects.filter(_company_filter(company_id), pk__in=due)
        .annotate(last_eta=Max("milestones__committed_eta"))
        .filter(_in_period("last_eta", known))
    )
    return _incident_rows(
        incidents,
        observed_at=F("last_eta"),
        value=percent(
            Count("milestones", filter=Q(milestones__delivered_at__lte=F("milestones__committed_eta"))),
            Count("milestones"),
        ),
    )


@calculator("stakeholder-satisfaction", grain=INCIDENT)
def stakeholder_satisfaction_rows(period, company_id=None):
    """Mean survey score (1-5) of the incident's stakeholders, observed at the last response."""
    answered = SurveyResponse.objects.filter(_in_period("submitted_at", period)).values("incident_id")
    incidents = (
        Incident.objects.filter(_company_filter(company_id), pk__in=answered)
        .annotate(last_response=Max("survey_responses__submitted_at"))
        .filter(_in_period("last_response", period))
    )
    return _incident_rows(
        incidents,
        observed_at=F("last_response"),
        value=Cast(Avg("survey_responses__score"), FloatField()),
    )


# --- Per-company KPIs: shared row queries for any period, used by the daily calculators and evidence --


def _by_company(queryset):
    return queryset.order_by().values(obs_company=F("company_id"))


def _holds_days(model, field):
    """`field` of `model` holds UTC days (a DateField), not moments."""
    return not isinstance(model._meta.get_field(field), DateTimeField)


def _by_company_and_day(queryset, field):
    """Grouped by company (`obs_company`) and the UTC day of `field` (`obs_day`: its 00:00, or a DateField's day)."""
    # A DateField is grouped as it is, not cast to a moment: PostgreSQL then reads it in its index's order.
    day = F(field) if _holds_days(queryset.model, field) else TruncDay(field, tzinfo=datetime.timezone.utc)
    return queryset.order_by().values(obs_company=F("company_id"), obs_day=day)


def _utc_midnight(moment):
    return datetime.datetime.combine(moment.astimezone(datetime.timezone.utc).date(), datetime.time.min, tzinfo=datetime.timezone.utc)


def day_windows(period, length, earlier=datetime.timedelta(0)):
    """Each day of `period` as a window (its 00:00, start, end): the `length` ending `earlier` before the day ends."""
    return [(day.start, day.end - earlier - length, day.end - earlier) for day in period.days()]


def _span(windows):
    """The start of the first and the end of the last of `windows` ((label, start, end))."""
    return min(start for _, start, _ in windows), max(end for _, _, end in windows)


def _from_midnight(windows):
    """
    `windows` from their first day's 00:00, for rows counted by day: a lone window may start mid-day; its rows are
    counted from its start, so its first day counts whole.
    """
    return [(label, _utc_midnight(start), end) for label, start, end in windows]


def _windows_sql(windows, *, days=False):
    """
    `windows` ((label, start, end) datetimes) as a table for hand-written SQL: `label`, `starts`, `ends` (with `days`,
    the UTC days of start and end, to compare with a DateField); and its params.
    """
    ops = connection.ops

    def bound(moment):
        # SQLite compares dates and datetimes as text: a day's date sorts before its 00:00.
        if days:
            return ops.adapt_datefield_value(moment.astimezone(datetime.timezone.utc).date())
        return ops.adapt_datetimefield_value(moment)

    # SQLite names no column list after a VALUES alias: both name the columns column1, column2, ...
    values = ", ".join(["(%s, %s, %s)"] * len(windows))
    sql = f"SELECT column1 AS label, column2 AS starts, column3 AS ends FROM (VALUES {values}) AS listed"
    params = [(ops.adapt_datetimefield_value(label), bound(start), bound(end)) for label, start, end in windows]
    return sql, [value for window in params for value in window]


# A row counted by day (`obs_day`, as _by_company_and_day gives it) lies in a window.
DAY_IN_WINDOW = "counted.obs_day >= windows.starts AND counted.obs_day < windows.ends"


def _figures_in_windows(windows, counted, *, within, totals, figures, reporting=None, days=False):
    """
    A SELECT, per company and window of `windows` ((label, start, end)): `obs_company`, `obs_window` (the label),
    `window_end`, the `totals` (SQL aggregates over the rows of `counted`, a queryset or RowsSQL with `obs_company`, that
    lie in the window by `within`, an SQL condition on `counted` and `windows.starts`, `windows.ends`) and the `figures`
    (SQL over the totals and `window_end`, or a function giving it for this database), by name. A company has figures
    for each window holding some of its rows; with `reporting` (a queryset of `obs_company` and `since`), for each
    window ending after its `since`, rows or not. With `days`, the windows' bounds are days (see _windows_sql).
    """
    windows_sql, params = _windows_sql(windows, days=days)
    counted_sql, counted_params = _as_sql(counted)
    if reporting is None:
        company, joins = "counted.obs_company", f"JOIN ({counted_sql}) AS counted ON {within}"
    else:
        reporting_sql, reporting_params = _as_sql(reporting)
        company = "reporting.obs_company"
        joins = f"""
            JOIN ({reporting_sql}) AS reporting ON reporting.since < windows.ends
            LEFT JOIN ({counted_sql}) AS counted ON counted.obs_company = reporting.obs_company AND {within}
        """
        params += reporting_params
    float_type = FloatField().cast_db_type(connection)
    total_columns = "".join(f", {expression} AS {name}" for name, expression in totals.items())
    figure_columns = "".join(
        f", CAST({expression() if callable(expression) else expression} AS {float_type}) AS {name}"
        for name, expression in figures.items()
    )
    sql = f"""
        SELECT totals.*{figure_columns} FROM (
            SELECT {company} AS obs_company, windows.label AS obs_window, windows.ends AS window_end{total_columns}
            FROM ({windows_sql}) AS windows {joins}
            GROUP BY {company}, windows.label, windows.ends
        ) AS totals
    """
    return RowsSQL(sql, [*params, *counted_params])


def day_rows_from(value, **figures):
    """
    Company rows of days from per-window figures: each of `figures` names a SELECT (RowsSQL) of `obs_company`,
    `obs_window` (a day's 00:00) and figures, as WindowFigures.sql gives over day_windows; they are joined by company
    and day (a day missing from one has no row) and `value` is SQL over them (`name.figure`).
    """
    first, *others = figures
    joins = "".join(
        f" JOIN ({figures[name].sql}) AS {name}"
        f" ON {name}.obs_company = {first}.obs_company AND {name}.obs_window = {first}.obs_window"
        for name in others
    )
    null_id = f"CAST(NULL AS {BigIntegerField().cast_db_type(connection)})"
    float_type = FloatField().cast_db_type(connection)
    sql = f"""
        SELECT {first}.obs_company, {null_id} AS obs_domain, {null_id} AS obs_service, {null_id} AS obs_incident,
               {first}.obs_window AS obs_observed_at, CAST({value} AS {float_type}) AS obs_value, 1.0 AS obs_confidence
        FROM ({figures[first].sql}) AS {first}{joins}
    """
    return RowsSQL(sql, [param for rows in figures.values() for param in rows.params])


class WindowFigures:
    """
    Figures of company KPIs over windows of time, for any number of windows in one statement: `sql(windows,
    company_id)` selects `obs_company`, `obs_window` (the label) and the figures by name for each company and window
    ((label, start, end)) that has them. A day's value covers the `window` ending with the day (None: the figures are
    read over the windows their calculators give, through `sql` and day_rows_from).
    """

    window: datetime.timedelta | None

    def day_rows(self, period, company_id, value):
        """Company rows of every day of `period`: `value` (SQL over the figures) over the window ending with the day."""
        return day_rows_from(value, figures=self.sql(day_windows(period, self.window), company_id))

    def figures_of(self, company, start, end, *names):
        """The figures `names` of `company` over [start, end); None when it has none."""
        sql, params = self.sql([(start, start, end)], company.pk)
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            row = cursor.fetchone()
            # A column's name is the first item of its description (SQLite's are plain tuples).
            return None if row is None else {name: row[[column[0] for column in cursor.description].index(name)] for name in names}


@dataclass(frozen=True, kw_only=True)
class DailyTotals(WindowFigures):
    """
    Figures of company KPIs over windows of whole days, from totals per company and UTC day that add up (counts and
    sums): `counted(start, end, company_id)` are the rows counted in [start, end) and `time_field` their time (or
    day), `totals` total them per company and day, and `figures` are SQL expressions over a window's summed totals,
    which they name. With `reporting(company_id)` (`obs_company` and `since`), a company has figures, its totals 0
    without rows, on every day from its `since`. Every day of a backfill comes from one statement that reads each
    counted row once (the windows add up the few daily totals instead).
    """

    counted: Callable
    time_field: str
    totals: dict
    figures: dict
    window: datetime.timedelta | None = None
    reporting: Callable | None = None

    def sql(self, windows, company_id=None):
        """Per company and window: `obs_company`, `obs_window`, the summed totals and the figures (see WindowFigures)."""
        daily = _by_company_and_day(self.counted(*_span(windows), company_id), self.time_field).annotate(**self.totals)
        total = "COALESCE(SUM(counted.{name}), 0)" if self.reporting else "SUM(counted.{name})"
        sums = {
            name: f"CAST({total.format(name=name)} AS {daily.query.annotations[name].output_field.cast_db_type(connection)})"
            for name in self.totals
        }
        return _figures_in_windows(
            _from_midnight(windows),
            daily,
            within=DAY_IN_WINDOW,
            totals=sums,
            figures=self.figures,
            reporting=self.reporting and self.reporting(company_id),
            days=_holds_days(daily.model, self.time_field),
        )


@dataclass(frozen=True, kw_only=True)
class RowsInWindows(WindowFigures):
    """
    Figures of company KPIs over windows whose rows do not add up by day (what is open at the window's end, what has
    either of two times in it): `counted(start, end, company_id)` are the rows that may lie in windows within
    [start, end), with `obs_company`; `within` is the SQL condition that a row (`counted.<column>`) lies in a window
    (`windows.starts`, `windows.ends`); `totals` are SQL aggregates over a window's rows and `figures` SQL over the
    totals and `window_end` (or functions giving it for this database), which they name. With `reporting(company_id)`
    (`obs_company` and `since`), a company has figures on every day from its `since`, over no rows when none lies in
    the window (COUNT 0, MIN NULL).
    """

    counted: Callable
    within: str
    totals: dict
    figures: dict
    window: datetime.timedelta | None = None
    reporting: Callable | None = None

    def sql(self, windows, company_id=None):
        """Per company and window: `obs_company`, `obs_window`, the totals and the figures (see WindowFigures)."""
        return _figures_in_windows(
            windows,
            self.counted(*_span(windows), company_id),
            within=self.within,
            totals=self.totals,
            figures=self.figures,
            reporting=self.reporting and self.reporting(company_id),
        )


@dataclass(frozen=True, kw_only=True)
class DistinctCounts(WindowFigures):
    """
    The distinct values of `field` (users, say) per company and window of whole days, as the figure `name`; they do
    not add up from daily totals: `counted(start, end, company_id)` are the rows counted in [start, end) and
    `time_field` their time (or day). A value counts in a window on its first day there, the day whose previous day
    with the value is before the window's start: the rows reduce to counts per company, day and previous day, which
    each window sums. Every window of a backfill comes from one statement that reads each row once, with no DISTINCT
    per window.
    """

    counted: Callable
    time_field: str
    field: str
    name: str
    window: datetime.timedelta | None = None

    def sql(self, windows, company_id=None):
        """Per company and window: `obs_company`, `obs_window` and the count `name` (see WindowFigures)."""
        by_day = _by_company_and_day(self.counted(*_span(windows), company_id), self.time_field).annotate(
            previous=Window(Lag("obs_day"), partition_by=[F("company_id"), F(self.field)], order_by=F("obs_day").asc())
        )
        days_sql, days_params = by_day.query.sql_with_params()
        # A value's rows of one day after the first have that day as their previous one: no window counts them.
        firsts = RowsSQL(
            f"""
            SELECT days.obs_company, days.obs_day, days.previous, COUNT(*) AS firsts FROM ({days_sql}) AS days
            GROUP BY days.obs_company, days.obs_day, days.previous
            """,
            days_params,
        )
        return _figures_in_windows(
            _from_midnight(windows),
            firsts,
            within=f"{DAY_IN_WINDOW} AND (counted.previous IS NULL OR counted.previous < windows.starts)",
            totals={self.name: f"CAST(SUM(counted.firsts) AS {BigIntegerField().cast_db_type(connection)})"},
            figures={},
            days=_holds_days(by_day.model, self.time_field),
        )


def _detected_incidents(start, end, company_id):
    return Incident.objects.filter(detected_at__gte=start, detected_at__lt=end).filter(_company_filter(company_id))


def _resolved_incidents(start, end, company_id):
    return Incident.objects.filter(resolved_at__gte=start, resolved_at__lt=end).filter(_company_filter(company_id))


_automated = Q(automation_used=True)
_resolution_minutes = MinutesBetween(F("resolved_at"), F("detected_at"))

# Incidents detected: all of them and the P1s.
DETECTED_INCIDENTS = DailyTotals(
    counted=_detected_incidents,
    time_field="detected_at",
    totals={"incidents": Count("id"), "p1_incidents": Count("id", filter=Q(severity=Severity.P1))},
    figures={},
    window=ROLLING_WINDOW,
)

# Incidents resolved, manually and by automation (runbooks), with their resolution minutes.
RESOLVED_INCIDENTS = DailyTotals(
    counted=_resolved_incidents,
    time_field="resolved_at",
    totals={
        "manual_incidents": Count("id", filter=~_automated),
        "automated_incidents": Count("id", filter=_automated),
        "total_incidents": Count("id"),
        "manual_minutes": Sum(_resolution_minutes, filter=~_automated),
        "automated_minutes": Sum(_resolution_minutes, filter=_automated),
    },
    figures={
        "manual_mttr_minutes": "manual_minutes / NULLIF(manual_incidents, 0)",
        "automated_mttr_minutes": "automated_minutes / NULLIF(automated_incidents, 0)",
        "mttr_reduction_pct": (
            "100.0 - 100.0 * (automated_minutes / NULLIF(automated_incidents, 0))"
            " / NULLIF(manual_minutes / NULLIF(manual_incidents, 0), 0)"
        ),
        "self_healed_pct": "100.0 * automated_incidents / NULLIF(total_incidents, 0)",
    },
    window=ROLLING_WINDOW,
)


def noise_window(start, end, company_id=None, *, each_day=False):
    """
    Per company with alerts issued in [start, end) (and per UTC day, `each_day`): `raw_alerts`, `incidents_created`
    (distinct incidents made by correlation from those alerts) and `noise_reduction_pct`.
    """
    alerts = Alert.objects.filter(issued_at__gte=start, issued_at__lt=end).filter(_indexed_company_filter(company_id))
    # A join, not a probe per alert: PostgreSQL hashes the incidents once for a long period (a backfill, the 30
    # days of /api/metrics/kpis/: 2-3x faster at a million alerts) and still probes by key when that is cheaper.
    grouped = _by_company_and_day(alerts, "issued_at") if each_day else _by_company(alerts)
    return grouped.annotate(
        raw_alerts=Count("id"),
        incidents_created=Count("incident", distinct=True, filter=Q(incident__correlation_key__gt="")),
        noise_reduction_pct=Value(100.0) - percent(F("incidents_created"), F("raw_alerts")),
    )


def latest_patch_snapshots(start, end, company_id=None, *, each_day=False):
    """Each company's latest patch scan in [start, end) (of each UTC day, `each_day`), with `compliance_pct`."""
    scans = PatchComplianceSnapshot.objects.filter(scanned_at__gte=start, scanned_at__lt=end).annotate(
        obs_day=TruncDay("scanned_at", tzinfo=datetime.timezone.utc)
    )
    later = scans.filter(company=OuterRef("company"), scanned_at__gt=OuterRef("scanned_at"))
    if each_day:
        later = later.filter(obs_day=OuterRef("obs_day"))
    return (
        scans.filter(_company_filter(company_id))
        .exclude(Exists(later))
        .order_by()
        .annotate(obs_company=F("company_id"), compliance_pct=percent(F("compliant_instances"), F("total_instances")))
    )


@calculator("p1-incident-count", grain=DAY, many_days=True)
def p1_incident_count_rows(period, company_id=None):
    """P1 incidents detected in the 30 days ending with each day (days without any incident: no value)."""
    return DETECTED_INCIDENTS.day_rows(period, company_id, value="p1_incidents")


@calculator("noise-reduction", grain=DAY, many_days=True)
def noise_reduction_rows(period, company_id=None):
    """(1 - incidents created by correlation from the day's alerts / alerts issued that day) * 100."""
    days = noise_window(period.start, period.end, company_id, each_day=True)
    return _company_rows(days, observed_at=F("obs_day"), value=F("noise_reduction_pct"))


@calculator("mttr-reduction", grain=DAY, many_days=True)
def mttr_reduction_rows(period, company_id=None):
    """
    (1 - mean automated MTTR / mean manual MTTR) * 100 over incidents resolved in the 30 days ending
    with each day; no value unless both manual and automated incidents were resolved.
    """
    return RESOLVED_INCIDENTS.day_rows(period, company_id, value="mttr_reduction_pct")


@calculator("self-healed", grain=DAY, many_days=True)
def self_healed_rows(period, company_id=None):
    """Automated (runbook) resolved incidents / all resolved incidents, in the 30 days ending with each day, * 100."""
    return RESOLVED_INCIDENTS.day_rows(period, company_id, value="self_healed_pct")


@calculator("patch-compliance", grain=DAY, many_days=True)
def patch_compliance_rows(period, company_id=None):
    """Compliant / total instances * 100 of the company's latest patch scan of each day."""
    days = latest_patch_snapshots(period.start, period.end, company_id, each_day=True)
    return _company_rows(days, observed_at=F("obs_day"), value=F("compliance_pct"))


# --- Evidence: the numbers behind a company KPI, for any period ----------------------------------------


def _one_row(queryset, *fields):
    # Not .first(): its ORDER BY pk is invalid on a grouped query.
    return next(iter(queryset.values(*fields)[:1]), None)


@evidence("noise-reduction", incidents_by="detected")
def noise_reduction_evidence(company, start, end):
    """Raw alerts, incidents created and noise reduction of `company` in [start, end); None without alerts."""
    return _one_row(noise_window(start, end, company.pk), "raw_alerts", "incidents_created", "noise_reduction_pct")


def runbooks_used(company, start, end):
    """Runbooks executed for `company` in [start, end), most used first: id, executions, success rate."""
    executions = RunbookExecution.objects.filter(company=company, started_at__gte=start, started_at__lt=end)
    return list(
        executions.order_by()
        .values("runbook_id")
        .annotate(executions=Count("id"), success_rate=ratio(Count("id", filter=Q(success=True)), Count("id")))
        .order_by("-executions", "runbook_id")
    )


@evidence("mttr-reduction", window=ROLLING_WINDOW, incidents_by="resolved")
def mttr_reduction_evidence(company, start, end):
    """Manual and automated MTTR with sample sizes and the runbooks used; None without resolved incidents."""
    row = RESOLVED_INCIDENTS.figures_of(
        company, start, end,
        "manual_mttr_minutes", "automated_mttr_minutes", "manual_incidents", "automated_incidents", "mttr_reduction_pct",
    )
    if row is not None:
        row["runbooks_used"] = runbooks_used(company, start, end)
    return row


@evidence("self-healed", window=ROLLING_WINDOW, incidents_by="resolved")
def self_healed_evidence(company, start, end):
    """Self-healed and all resolved incidents with the runbooks used; None without resolved incidents."""
    row = RESOLVED_INCIDENTS.figures_of(company, start, end, "automated_incidents", "total_incidents", "self_healed_pct")
    if row is not None:
        row["runbooks_used"] = runbooks_used(company, start, end)
    return row


@evidence("patch-compliance")
def patch_compliance_evidence(company, start, end):
    """The latest patch scan of `company` in [start, end) with its compliance; None without a scan."""
    return _one_row(
        latest_patch_snapshots(start, end, company.pk),
        "scanned_at",
        "total_instances",
        "compliant_instances",
        "non_compliant_instances",
        "critical_patches_missing",
        "compliance_pct",
    )


@evidence("p1-incident-count", window=ROLLING_WINDOW, incidents_by="detected")
def p1_incident_count_evidence(company, start, end):
    """Incidents and P1 incidents of `company` detected in [start, end); None without incidents."""
    return DETECTED_INCIDENTS.figures_of(company, start, end, "incidents", "p1_incidents")
