"""
The SQL toolkit calculators are written with: portable expressions (minutes between two times, ratios and
percents that are NULL over nothing), the row shapes of company and incident observations, and figures over many
windows of time in one statement (`DailyTotals`, `RowsInWindows`, `DistinctCounts`), which is how a backfill
computes a run of days at once. Everything here is set-based SQL that runs on PostgreSQL and SQLite.
"""
import datetime
from dataclasses import dataclass
from typing import Callable

from django.db import NotSupportedError, connection
from django.db.models import (
    BigIntegerField,
    DateTimeField,
    F,
    FloatField,
    Func,
    Q,
    Value,
    Window,
)
from django.db.models.expressions import RawSQL
from django.db.models.functions import Cast, Lag, NullIf, TruncDate, TruncDay
from django.db.models.sql import Query

from tenancy.models import Company

from .registry import ROW_COLUMNS, RowsSQL, as_sql

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


def minutes_between_sql(end, start):
    """MinutesBetween two SQL datetime expressions, as SQL for hand-written statements."""
    sql, _ = Query(None).get_compiler(connection=connection).compile(MinutesBetween(RawSQL(end, ()), RawSQL(start, ())))
    return sql


def from_db(value, output_field):
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


def null_id():
    return Cast(Value(None), BigIntegerField())


def company_filter(company_id, field="company_id"):
    return Q(**{field: company_id}) if company_id is not None else Q()


def indexed_company_filter(company_id):
    """
    `company_id`'s rows, or every company's spelled as a semi-join on the companies: PostgreSQL then reads a
    time range through the table's (company, time) index a company at a time instead of scanning the table.
    """
    return company_filter(company_id) if company_id is not None else Q(company_id__in=Company.objects.values("pk"))


def company_rows(queryset, *, observed_at, value, confidence=1.0):
    """Company rows: `queryset` must be grouped by company with `obs_company` (and by day, for many days)."""
    return queryset.order_by().annotate(
        obs_domain=null_id(),
        obs_service=null_id(),
        obs_incident=null_id(),
        obs_observed_at=observed_at,
        obs_value=value,
        obs_confidence=Value(confidence, output_field=FloatField()),
    ).values(*ROW_COLUMNS)


def incident_rows(incidents, *, observed_at, value, confidence=1.0):
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


def in_period(field, period):
    return Q(**{f"{field}__gte": period.start, f"{field}__lt": period.end})


# --- Per-company KPIs: shared row queries for any period, used by the daily calculators and evidence --


def by_company(queryset):
    return queryset.order_by().values(obs_company=F("company_id"))


def holds_days(model, field):
    """`field` of `model` holds UTC days (a DateField), not moments."""
    return not isinstance(model._meta.get_field(field), DateTimeField)


def by_company_and_day(queryset, field, group=None):
    """
    Grouped by company (`obs_company`) and the UTC day of `field` (`obs_day`: its 00:00, or a DateField's day); with
    `group` (a Grouping), by its key instead of the company.
    """
    # A DateField is grouped as it is, not cast to a moment: PostgreSQL then reads it in its index's order.
    day = F(field) if holds_days(queryset.model, field) else TruncDay(field, tzinfo=datetime.timezone.utc)
    return queryset.order_by().values(obs_company=group.key if group else F("company_id"), obs_day=day)


def by_company_and_date(queryset, field, *keys):
    """
    Grouped by company (`obs_company`), the UTC date of the datetime `field` (`obs_day`, a date: a stored day) and
    the fields `keys`.
    """
    day = TruncDate(field, tzinfo=datetime.timezone.utc)
    return queryset.order_by().values(*keys, obs_company=F("company_id"), obs_day=day)


@dataclass(frozen=True)
class Grouping:
    """
    Figures split by something finer than the company (a team, a service, a tenant): `key`, an expression over the
    counted rows, takes the place of `obs_company` in the figures' rows (their callers ask for one company's rows).
    `reporting(company_id)`, when the figures have a reporting rule, gives `obs_company` (the key) and `since`.
    """

    key: object
    reporting: Callable | None = None


def utc_midnight(moment):
    return datetime.datetime.combine(moment.astimezone(datetime.timezone.utc).date(), datetime.time.min, tzinfo=datetime.timezone.utc)


def day_windows(period, length, earlier=datetime.timedelta(0)):
    """Each day of `period` as a window (its 00:00, start, end): the `length` ending `earlier` before the day ends."""
    return [(day.start, day.end - earlier - length, day.end - earlier) for day in period.days()]


def span(windows):
    """The start of the first and the end of the last of `windows` ((label, start, end))."""
    return min(start for _, start, _ in windows), max(end for _, _, end in windows)


def from_midnight(windows):
    """
    `windows` from their first day's 00:00, for rows counted by day: a lone window may start mid-day; its rows are
    counted from its start, so its first day counts whole.
    """
    return [(label, utc_midnight(start), end) for label, start, end in windows]


def windows_sql(windows, *, days=False):
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


# A row counted by day (`obs_day`, as by_company_and_day gives it) lies in a window.
DAY_IN_WINDOW = "counted.obs_day >= windows.starts AND counted.obs_day < windows.ends"


def figures_in_windows(windows, counted, *, within, totals, figures, reporting=None, days=False):
    """
    A SELECT, per company and window of `windows` ((label, start, end)): `obs_company`, `obs_window` (the label),
    `window_end`, the `totals` (SQL aggregates over the rows of `counted`, a queryset or RowsSQL with `obs_company`, that
    lie in the window by `within`, an SQL condition on `counted` and `windows.starts`, `windows.ends`) and the `figures`
    (SQL over the totals and `window_end`, or a function giving it for this database), by name. A company has figures
    for each window holding some of its rows; with `reporting` (a queryset of `obs_company` and `since`), for each
    window ending after its `since`, rows or not. With `days`, the windows' bounds are days (see windows_sql).
    """
    windows_table, params = windows_sql(windows, days=days)
    counted_sql, counted_params = as_sql(counted)
    if reporting is None:
        company, joins = "counted.obs_company", f"JOIN ({counted_sql}) AS counted ON {within}"
    else:
        reporting_sql, reporting_params = as_sql(reporting)
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
            FROM ({windows_table}) AS windows {joins}
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


def day_values(rows):
    """
    {(obs_company, day): value} of company rows (RowsSQL of ROW_COLUMNS, as day_rows_from gives them) that have a value;
    `obs_company` is a Grouping's key when the figures were split by one.
    """
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT obs_company, obs_observed_at, obs_value FROM ({rows.sql}) AS day_rows", rows.params)
        return {
            (key, from_db(moment, DateTimeField()).astimezone(datetime.timezone.utc).date()): value
            for key, moment, value in cursor.fetchall()
            if value is not None
        }


class WindowFigures:
    """
    Figures of company KPIs over windows of time, for any number of windows in one statement: `sql(windows,
    company_id)` selects `obs_company`, `obs_window` (the label) and the figures by name for each company and window
    ((label, start, end)) that has them. A day's value covers the `window` ending with the day (None: the figures are
    read over the windows their calculators give, through `sql` and day_rows_from).
    """

    window: datetime.timedelta | None

    def day_rows(self, period, company_id, value, group=None):
        """
        Company rows of every day of `period`: `value` (SQL over the figures) over the window ending with the day; with
        `group` (a Grouping, where the figures take one), rows of its keys in place of the company.
        """
        windows = day_windows(period, self.window)
        return day_rows_from(value, figures=self.sql(windows, company_id, group) if group else self.sql(windows, company_id))

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

    def sql(self, windows, company_id=None, group=None):
        """
        Per company (or `group`'s key, a Grouping) and window: `obs_company`, `obs_window`, the summed totals and the
        figures (see WindowFigures).
        """
        daily = by_company_and_day(self.counted(*span(windows), company_id), self.time_field, group).annotate(**self.totals)
        reporting = (group.reporting if group else self.reporting) if self.reporting else None
        total = "COALESCE(SUM(counted.{name}), 0)" if reporting else "SUM(counted.{name})"
        sums = {
            name: f"CAST({total.format(name=name)} AS {daily.query.annotations[name].output_field.cast_db_type(connection)})"
            for name in self.totals
        }
        return figures_in_windows(
            from_midnight(windows),
            daily,
            within=DAY_IN_WINDOW,
            totals=sums,
            figures=self.figures,
            reporting=reporting and reporting(company_id),
            days=holds_days(daily.model, self.time_field),
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
        return figures_in_windows(
            windows,
            self.counted(*span(windows), company_id),
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

    def sql(self, windows, company_id=None, group=None):
        """Per company (or `group`'s key) and window: `obs_company`, `obs_window` and the count `name` (see WindowFigures)."""
        by_day = by_company_and_day(self.counted(*span(windows), company_id), self.time_field, group).annotate(
            previous=Window(
                Lag("obs_day"), partition_by=[group.key if group else F("company_id"), F(self.field)], order_by=F("obs_day").asc()
            )
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
        return figures_in_windows(
            from_midnight(windows),
            firsts,
            within=f"{DAY_IN_WINDOW} AND (counted.previous IS NULL OR counted.previous < windows.starts)",
            totals={self.name: f"CAST(SUM(counted.firsts) AS {BigIntegerField().cast_db_type(connection)})"},
            figures={},
            days=holds_days(by_day.model, self.time_field),
        )



def ranked_median_sql(rows, *, value, groups=()):
    """
    A SELECT of `groups` (columns of `rows`, a queryset or RowsSQL) and `median`, the median of the column `value` over
    each group's rows where it is not NULL, in portable SQL: the mean of the middle one or two values by rank. And its
    params.
    """
    rows_sql, params = as_sql(rows)
    keys = ", ".join(groups)
    partition = f"PARTITION BY {keys} " if groups else ""
    sql = f"""
        SELECT {keys + ", " if groups else ""}AVG(CASE WHEN position >= (counted + 1) / 2 AND position <= (counted + 2) / 2
                                                     THEN {value} END) AS median
        FROM (
            SELECT measured.*, ROW_NUMBER() OVER ({partition}ORDER BY {value}) AS position,
                   COUNT(*) OVER ({partition.strip()}) AS counted
            FROM ({rows_sql}) AS measured WHERE {value} IS NOT NULL
        ) AS ranked
        {"GROUP BY " + keys if groups else ""}
    """
    return sql, params


def median_sql(rows, *, value, groups=()):
    """`ranked_median_sql`'s SELECT, or on PostgreSQL the same medians by its PERCENTILE_CONT (one sort, no ranking)."""
    if connection.vendor != "postgresql":
        return ranked_median_sql(rows, value=value, groups=groups)
    rows_sql, params = as_sql(rows)
    keys = ", ".join(groups)
    sql = f"""
        SELECT {keys + ", " if groups else ""}PERCENTILE_CONT(0.5) WITHIN GROUP (ORDER BY {value}) AS median
        FROM ({rows_sql}) AS measured WHERE {value} IS NOT NULL
        {"GROUP BY " + keys if groups else ""}
    """
    return sql, params


def one_row(queryset, *fields):
    # Not .first(): its ORDER BY pk is invalid on a grouped query.
    return next(iter(queryset.values(*fields)[:1]), None)


