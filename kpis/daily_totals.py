"""
The alert-methodology proof (`/api/metrics/kpis/`) from per-company daily totals: the whole UTC days of a period are
read from totals stored per company and day, its partial days at either end (and today) from the alerts and incidents
themselves, so a period of any length reads a few hundred stored rows and at most two days of raw rows.

What is stored is what the calculators total per day with their own statements (noise reduction's ALERT_TOTALS,
RESOLVED_INCIDENTS' totals, the runbook table's RUN_TOTALS and SIGNATURE_TOTALS), and for noise reduction's distinct
incidents the incidents per day and previous day with alerts, which count each incident once over any run of whole
days (see IncidentsCreatedDayTotals). The figures are then computed by the same SQL as from the rows: the numbers
equal the recomputation's. Medians do not add up: they are read from the period's incidents.

A day's totals are refreshed (replaced as a whole, one statement per table for any set of days) by the nightly run
(the recent days), by `kpi backfill` and `kpi daily-totals`, and after `incident_data_changed` for the days a write
touched (kpis.tasks.daily_totals: the days are unstored at once and refreshed by a task). Days not stored are read
from the rows, never from missing totals as zero.
"""
import dataclasses
import datetime

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, Exists, F, OuterRef, Q, Sum
from django.utils import timezone

from incidents.models import Alert, Incident
from tenancy.models import Company

from .calculators.incident_kpis import ALERT_TOTALS, CORRELATED, RESOLVED_INCIDENTS, noise_window
from .calculators.registry import RowsSQL, as_sql
from .calculators.runbooks import (
    RUN_TOTALS,
    SIGNATURE_KEYS,
    SIGNATURE_TOTALS,
    incidents_resolved,
    resolution_medians,
    run_day_totals,
    runbook_table_of,
    runs_started,
    signature_day_totals,
)
from .calculators.toolkit import by_company_and_date, by_company_and_day, figures_in_windows, one_row, utc_midnight
from .models import (
    AlertDayTotals,
    DailyTotalsDay,
    IncidentsCreatedDayTotals,
    ResolvedDayTotals,
    ResolvedSignatureDayTotals,
    RunbookRunDayTotals,
)

UTC = datetime.timezone.utc
ONE_DAY = datetime.timedelta(days=1)
# The last moment of a half-open period ending at `end` is end - LAST_MOMENT.
LAST_MOMENT = datetime.timedelta(microseconds=1)

# The nightly run refreshes the days ending with the day it computes: writes the events did not announce are
# caught within this many days.
RECENT_DAYS = 7

# Serialises refreshes on PostgreSQL: a day's rows are deleted and inserted again, and two refreshes of one day at
# once would insert them twice.
_REFRESH_LOCK = 7_202_612_060


def utc_date(moment):
    return moment.astimezone(UTC).date()


def midnight(day):
    return datetime.datetime.combine(day, datetime.time.min, tzinfo=UTC)


def days_between(since, until):
    """The UTC dates from `since` up to, not including, `until`."""
    return [since + datetime.timedelta(days=offset) for offset in range((until - since).days)]


def _runs(days):
    """Sorted `days` (dates) as runs of consecutive days: [(00:00 of the first, 00:00 after the last)]."""
    runs = []
    for day in days:
        if runs and runs[-1][1] == midnight(day):
            runs[-1] = (runs[-1][0], midnight(day) + ONE_DAY)
        else:
            runs.append((midnight(day), midnight(day) + ONE_DAY))
    return runs


def _within(field, runs):
    """`field` (a datetime) in any of `runs`."""
    condition = Q()
    for start, end in runs:
        condition |= Q(**{f"{field}__gte": start, f"{field}__lt": end})
    return condition


# --- Refreshing --------------------------------------------------------------------------------------------------


def _alert_totals(runs, company_ids):
    alerts = Alert.objects.filter(_within("issued_at", runs), _companies(company_ids))
    return by_company_and_date(alerts, "issued_at").annotate(**ALERT_TOTALS)


def _resolved_totals(runs, company_ids):
    incidents = RESOLVED_INCIDENTS.counted(runs[0][0], runs[-1][1], None).filter(_within("resolved_at", runs), _companies(company_ids))
    return by_company_and_date(incidents, "resolved_at").annotate(**RESOLVED_INCIDENTS.totals)


def _run_totals(runs, company_ids):
    return run_day_totals(runs_started(runs[0][0], runs[-1][1]).filter(_within("started_at", runs), _companies(company_ids)))


def _signature_totals(runs, company_ids):
    incidents = incidents_resolved(runs[0][0], runs[-1][1]).filter(_within("resolved_at", runs), _companies(company_ids))
    return signature_day_totals(incidents)


def _incidents_created(runs, company_ids):
    """
    Per company, day of `runs` and previous day: the incidents correlation made with alerts on the day whose last
    earlier day with alerts is the previous day (NULL: none), over every alert of the incidents, not only the runs'.
    """
    touched = Alert.objects.filter(_within("issued_at", runs), _companies(company_ids), CORRELATED).values("incident_id")
    alert_days = (
        by_company_and_date(Alert.objects.filter(incident_id__in=touched), "issued_at", "incident_id")
        .annotate(alerts=Count("id"))
    )
    days_sql, params = alert_days.query.sql_with_params()
    in_runs = " OR ".join(["(lagged.obs_day >= %s AND lagged.obs_day < %s)"] * len(runs))
    ops = connection.ops
    sql = f"""
        SELECT lagged.obs_company, lagged.obs_day, lagged.previous_day, COUNT(*) AS incidents FROM (
            SELECT alert_days.obs_company, alert_days.obs_day,
                   LAG(alert_days.obs_day) OVER (PARTITION BY alert_days.incident_id ORDER BY alert_days.obs_day) AS previous_day
            FROM ({days_sql}) AS alert_days
        ) AS lagged
        WHERE {in_runs}
        GROUP BY lagged.obs_company, lagged.obs_day, lagged.previous_day
    """
    bounds = [ops.adapt_datefield_value(moment.date()) for run in runs for moment in run]
    return RowsSQL(sql, [*params, *bounds])


# Each table and the statement of its rows: (model, statement(runs, company_ids), its columns besides company, day).
TABLES = [
    (AlertDayTotals, _alert_totals, list(ALERT_TOTALS)),
    (IncidentsCreatedDayTotals, _incidents_created, ["previous_day", "incidents"]),
    (ResolvedDayTotals, _resolved_totals, list(RESOLVED_INCIDENTS.totals)),
    (RunbookRunDayTotals, _run_totals, ["runbook_id", *RUN_TOTALS]),
    (ResolvedSignatureDayTotals, _signature_totals, [*SIGNATURE_KEYS, *SIGNATURE_TOTALS]),
]


def _companies(company_ids):
    """
    The rows of `company_ids`, or of every company's as a semi-join on the companies: PostgreSQL then reads a time
    range by the (company, time) indexes a company at a time (as toolkit.indexed_company_filter).
    """
    return Q(company_id__in=company_ids if company_ids is not None else Company.objects.values("pk"))


def _linked_days(days, company_ids):
    """
    The days whose totals an alert on `days` (sorted) may change besides its own: the later days with alerts of its
    incident (their previous day) and the day the incident was resolved (its first alert's signature).
    """
    runs = _runs(days)
    touched = Alert.objects.filter(_within("issued_at", runs), _companies(company_ids), incident__isnull=False).values("incident_id")
    later_alerts = Alert.objects.filter(incident_id__in=touched, issued_at__gte=runs[0][0])
    alert_days = by_company_and_date(later_alerts, "issued_at").values_list("obs_day", flat=True)
    resolved = Incident.objects.filter(pk__in=touched, resolved_at__gte=runs[0][0])
    resolved_days = by_company_and_date(resolved, "resolved_at").values_list("obs_day", flat=True)
    return {_as_date(day) for day in alert_days.distinct()} | {_as_date(day) for day in resolved_days.distinct()}


def _as_date(value):
    return value if isinstance(value, datetime.date) else datetime.date.fromisoformat(str(value)[:10])


def alerts_kept_from(now):
    """
    00:00 of the first day whose alerts retention surely keeps (it drops whole months past ALERT_RETENTION_DAYS, and
    only months whose days with alerts have stored totals): before it, a day's alerts may be gone.
    """
    return midnight(utc_date(now - datetime.timedelta(days=settings.ALERT_RETENTION_DAYS)).replace(day=1))


def _storable(days, company_ids, now):
    """
    The sorted `days` whose totals may be (re)computed: those that are over (today's are read from the rows), and of
    the days whose alerts may be gone, those a company has none stored of (its alerts there were never dropped), so
    stored totals keep their figures from the unpruned alerts.
    """
    today, kept_from = utc_date(now), alerts_kept_from(now).date()
    days = {day for day in days if day < today}
    old = {day for day in days if day < kept_from}
    if old and company_ids is None:
        days -= old
    elif old:
        days -= set(DailyTotalsDay.objects.filter(day__in=old, company_id__in=company_ids).values_list("day", flat=True))
    return sorted(days)


def refresh(days, company_ids=None):
    """
    Recompute the stored totals of `days` (UTC dates) of the companies `company_ids` (every company's: None), and of
    the days those depend on (see _linked_days): one DELETE and one INSERT ... SELECT per table, in one transaction.
    Only days that are over are stored; of those whose alerts may be gone (alerts_kept_from), only a company's days
    never stored, and none when refreshing every company.
    """
    now = timezone.now()
    days = _storable(set(days), company_ids, now)
    if not days:
        return
    days = _storable(set(days) | _linked_days(days, company_ids), company_ids, now)
    runs = _runs(days)
    ops = connection.ops
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_REFRESH_LOCK])
        for model, statement, columns in TABLES:
            model.objects.filter(_companies(company_ids), day__in=days).delete()
            rows_sql, params = as_sql(statement(runs, company_ids))
            table = model._meta.db_table
            names = ", ".join(columns)
            selected = ", ".join(f"computed.{name}" for name in columns)
            cursor.execute(
                f"INSERT INTO {table} (company_id, day, {names}) "
                f"SELECT computed.obs_company, computed.obs_day, {selected} FROM ({rows_sql}) AS computed",
                params,
            )
        DailyTotalsDay.objects.filter(_companies(company_ids), day__in=days).delete()
        companies = f"SELECT id FROM {Company._meta.db_table}" + (
            f" WHERE id IN ({', '.join(['%s'] * len(company_ids))})" if company_ids is not None else ""
        )
        listed = ", ".join(["(%s)"] * len(days))
        cursor.execute(
            f"INSERT INTO {DailyTotalsDay._meta.db_table} (company_id, day, refreshed_at) "
            f"SELECT companies.id, listed.column1, %s FROM ({companies}) AS companies "
            f"CROSS JOIN (VALUES {listed}) AS listed",
            [ops.adapt_datetimefield_value(now), *(company_ids or []), *(ops.adapt_datefield_value(day) for day in days)],
        )


def unstore(days, company_id):
    """
    Forget the stored totals of the company's `days` that refresh would recompute, so that until they are refreshed
    a period reads those days from the rows: a write is in the proof as soon as it commits. Returns those days.
    """
    days = _storable(set(days), [company_id], timezone.now())
    DailyTotalsDay.objects.filter(company_id=company_id, day__in=days).delete()
    return days


def refresh_recent_days(last_day):
    """The nightly refresh: every company's stored totals of the RECENT_DAYS days ending with `last_day`."""
    refresh(days_between(last_day - datetime.timedelta(days=RECENT_DAYS - 1), last_day + ONE_DAY))


# --- Reading a period --------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class ProofFigures:
    """
    The figures of the proof payload of a company over a period, unrounded: `noise` (raw_alerts, incidents_created,
    noise_reduction_pct; None without alerts), `resolved` (RESOLVED_INCIDENTS' totals and figures; None without
    resolved incidents), the `runbook_table` and the resolution `medians`.
    """

    noise: dict | None
    resolved: dict | None
    runbook_table: list
    medians: dict


RESOLVED_NAMES = [*RESOLVED_INCIDENTS.totals, *RESOLVED_INCIDENTS.figures]


def figures_from_rows(company, start, end):
    """The figures of `company` over [start, end) recomputed from its alerts, incidents and runbook runs."""
    return ProofFigures(
        noise=one_row(noise_window(start, end, company.pk), "raw_alerts", "incidents_created", "noise_reduction_pct"),
        resolved=RESOLVED_INCIDENTS.figures_of(company, start, end, *RESOLVED_NAMES),
        runbook_table=runbook_table_of(
            run_day_totals(runs_started(start, end, company.pk)),
            signature_day_totals(incidents_resolved(start, end, company.pk)),
        ),
        medians=resolution_medians(company, start, end),
    )


def whole_days(start, end, now=None):
    """
    The UTC days wholly inside [start, end) and over before today, whose totals are read from storage: 00:00 of the
    first and 00:00 after the last (the first not before the second: none).
    """
    first = utc_midnight(start)
    first += ONE_DAY if first < start else datetime.timedelta(0)
    last = min(utc_midnight(end), utc_midnight(now or timezone.now()))
    return first, last


def proof_figures(company, start, end):
    """
    The figures of `company` over [start, end): those of its whole past days from the stored totals, those of the
    partial days at its ends from the rows; equal to figures_from_rows. Days never stored (before the first refresh
    after `migrate`, an old range) are read from the rows with the start of the period up to the run of stored days
    that ends it: never from missing totals as zero.
    """
    first, last = whole_days(start, end)
    first = midnight(_stored_since(company, first.date(), last.date())) if first < last else first
    if first >= last:
        figures = figures_from_rows(company, start, end)
        return dataclasses.replace(figures, noise=None) if _alerts_may_be_gone(company, [(start, end)]) else figures
    stored = {"company": company, "day__gte": first.date(), "day__lt": last.date()}
    edges = [(edge_start, edge_end) for edge_start, edge_end in ((start, first), (last, end)) if edge_start < edge_end]
    return ProofFigures(
        noise=None if _alerts_may_be_gone(company, edges) else _noise(company, stored, edges, first, last),
        resolved=_resolved(company, start, end, stored, edges),
        runbook_table=runbook_table_of(
            _union(RunbookRunDayTotals.objects.filter(**stored), [run_day_totals(runs_started(*edge, company.pk)) for edge in edges],
                   ["runbook_id", *RUN_TOTALS]),
            _union(ResolvedSignatureDayTotals.objects.filter(**stored),
                   [signature_day_totals(incidents_resolved(*edge, company.pk)) for edge in edges],
                   [*SIGNATURE_KEYS, *SIGNATURE_TOTALS]),
        ),
        medians=resolution_medians(company, start, end),
    )


def _alerts_may_be_gone(company, parts):
    """
    Whether `parts` ([(start, end)] read from the rows) have a day whose alerts retention may have dropped: one before
    alerts_kept_from that has stored totals (retention drops only months whose days with alerts are stored). Their
    alerts cannot be counted again: noise reduction has no value.
    """
    kept_from = alerts_kept_from(timezone.now())
    old = [(part_start, min(part_end, kept_from)) for part_start, part_end in parts if part_start < kept_from]
    days = {day for part_start, part_end in old for day in days_between(utc_date(part_start), utc_date(part_end - LAST_MOMENT) + ONE_DAY)}
    return bool(days) and DailyTotalsDay.objects.filter(company=company, day__in=days).exists()


def _stored_since(company, first, last):
    """The first day of the run of days up to `last` (not included) that `company` has stored totals of, from `first`."""
    stored = set(DailyTotalsDay.objects.filter(company=company, day__gte=first, day__lt=last).values_list("day", flat=True))
    since = last
    while since > first and since - ONE_DAY in stored:
        since -= ONE_DAY
    return since


def _union(stored, edges, columns):
    """The rows of the `stored` totals and of the `edges` (querysets of the same totals from the rows), as RowsSQL."""
    parts = [as_sql(stored.values(*columns, obs_company=F("company_id")))]
    parts += [as_sql(edge) for edge in edges]
    names = ", ".join(["obs_company", *columns])
    return RowsSQL(
        " UNION ALL ".join(f"SELECT {names} FROM ({part.sql}) AS part" for part in parts),
        [param for part in parts for param in part.params],
    )


def _noise(company, stored, edges, first, last):
    """Noise reduction's figures: the stored days' totals and incidents counted on their first day, plus the edges'."""
    totals = {name: int(value or 0) for name, value in AlertDayTotals.objects.filter(**stored).aggregate(
        raw_alerts=Sum("raw_alerts"), uncorrelated_alerts=Sum("uncorrelated_alerts")
    ).items()}
    first_days = Q(previous_day__isnull=True) | Q(previous_day__lt=first.date())
    created = IncidentsCreatedDayTotals.objects.filter(first_days, **stored).aggregate(created=Sum("incidents"))["created"] or 0
    if edges:
        # An incident with alerts on the stored days is counted there; one with alerts only at the edges, here.
        on_stored_days = Alert.objects.filter(incident_id=OuterRef("incident_id"), issued_at__gte=first, issued_at__lt=last)
        edge_totals = Alert.objects.filter(_within("issued_at", edges), company=company).aggregate(
            **ALERT_TOTALS, created=Count("incident_id", distinct=True, filter=CORRELATED & ~Exists(on_stored_days))
        )
        created += edge_totals.pop("created")
        for name, value in edge_totals.items():
            totals[name] += value
    if not totals["raw_alerts"]:
        return None
    # noise_window's SQL, in the same floating-point operations.
    reduction = None if totals["uncorrelated_alerts"] else 100.0 - float(created) / float(totals["raw_alerts"]) * 100.0
    return {"raw_alerts": totals["raw_alerts"], "incidents_created": created, "noise_reduction_pct": reduction}


def _resolved(company, start, end, stored, edges):
    """RESOLVED_INCIDENTS' totals and figures over the stored days' totals and the edges' (its own SQL)."""
    daily = by_company_and_day(RESOLVED_INCIDENTS.counted(start, end, company.pk), "resolved_at").annotate(**RESOLVED_INCIDENTS.totals)
    edge_totals = [
        by_company_and_day(RESOLVED_INCIDENTS.counted(*edge, company.pk), "resolved_at").annotate(**RESOLVED_INCIDENTS.totals)
        for edge in edges
    ]
    rows = _union(ResolvedDayTotals.objects.filter(**stored), edge_totals, list(RESOLVED_INCIDENTS.totals))
    sums = {
        name: f"CAST(SUM(counted.{name}) AS {daily.query.annotations[name].output_field.cast_db_type(connection)})"
        for name in RESOLVED_INCIDENTS.totals
    }
    sql, params = figures_in_windows(
        [(start, start, end)], rows, within="1 = 1", totals=sums, figures=RESOLVED_INCIDENTS.figures
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
        names = [column[0] for column in cursor.description]
    return None if row is None else {name: row[names.index(name)] for name in RESOLVED_NAMES}
