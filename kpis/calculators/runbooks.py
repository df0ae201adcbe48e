"""
The methodology's runbook table and resolution medians: per runbook its executions, success rate, mean execution
time and the time it saved against manual resolution of the same incident signatures, and the median resolution
times of manual and automated incidents. Set-based SQL over a period, on PostgreSQL and SQLite.

- An incident's **signature** is the `signature` of its first alert (earliest `issued_at`, then lowest id): the alert
  correlation created it from (its title is "<signature> on <asset>"). With the default aggregation key
  (asset|signature) every alert of an incident has that signature. An incident without alerts (sent to
  /api/incidents/ or by PagerDuty) has none, and is compared with nothing.
- A runbook's **executions** are its runs started in the period; its **success rate** the successful ones among
  them; its **execution time** the mean of finished_at - started_at over the runs that finished.
- A runbook's **incidents** are those resolved in the period with automation_used and its runbook_id; their mean
  resolution time is its **automated MTTR**. Its **signatures** are theirs.
- Its **manual MTTR** is the mean resolution time of the incidents resolved in the period without automation whose
  signature is one of its signatures: the same problems, fixed by people.
- **Time saved** = (manual MTTR - automated MTTR) x executions (the methodology's formula), in minutes; none without
  both MTTRs.
"""
from django.db import connection
from django.db.models import Count, F, OuterRef, Q, Subquery, Sum

from incidents.models import Alert, Incident, RunbookExecution

from .registry import as_sql
from .toolkit import MinutesBetween, by_company_and_date, company_filter, median_sql

# The row of a runbook whose figures the table shows, rounded for people; the total adds up the rounded rows.
TIME_SAVED_PLACES = 1

_execution_seconds = MinutesBetween(F("finished_at"), F("started_at")) * 60.0

# A runbook's runs (started in a day, say), which add up: the table's executions, success and mean execution time.
RUN_TOTALS = {
    "executions": Count("id"),
    "successful_executions": Count("id", filter=Q(success=True)),
    "finished_executions": Count(_execution_seconds),
    "execution_seconds": Sum(_execution_seconds),
}

# Resolved incidents by runbook, signature and automation, which add up: the table's incidents and mean times.
SIGNATURE_TOTALS = {"incidents": Count("id"), "minutes": Sum(MinutesBetween(F("resolved_at"), F("detected_at")))}
SIGNATURE_KEYS = ("runbook_id", "signature", "automated")


def first_alert_signature():
    """The signature of an incident's first alert (by issued_at, then id); NULL without alerts."""
    first = Alert.objects.filter(incident=OuterRef("pk")).order_by("issued_at", "id").values("signature")[:1]
    return Subquery(first)


def resolution_times(company, start, end):
    """The incidents of `company` resolved in [start, end): id, runbook_id, `automated` and resolution `minutes`."""
    return (
        Incident.objects.filter(company=company, resolved_at__gte=start, resolved_at__lt=end)
        .order_by()
        .values("id", "runbook_id", automated=F("automation_used"))
        .annotate(minutes=MinutesBetween(F("resolved_at"), F("detected_at")))
    )


def runs_started(start, end, company_id=None):
    return RunbookExecution.objects.filter(started_at__gte=start, started_at__lt=end).filter(company_filter(company_id))


def incidents_resolved(start, end, company_id=None):
    return Incident.objects.filter(resolved_at__gte=start, resolved_at__lt=end).filter(company_filter(company_id))


def run_day_totals(runs):
    """RUN_TOTALS of `runs` (RunbookExecutions) per company (`obs_company`), UTC day (`obs_day`) and runbook_id."""
    return by_company_and_date(runs, "started_at", "runbook_id").annotate(**RUN_TOTALS)


def signature_day_totals(incidents):
    """SIGNATURE_TOTALS of resolved `incidents` per company, UTC day of resolved_at and SIGNATURE_KEYS."""
    keyed = incidents.annotate(signature=first_alert_signature(), automated=F("automation_used"))
    return by_company_and_date(keyed, "resolved_at", *SIGNATURE_KEYS).annotate(**SIGNATURE_TOTALS)


def _fetch(sql, params):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        names = [column[0] for column in cursor.description]
        return [dict(zip(names, row)) for row in cursor.fetchall()]


def resolution_medians(company, start, end):
    """The median resolution minutes of `company`'s manual and automated incidents resolved in [start, end)."""
    incidents = resolution_times(company, start, end)
    sql, params = median_sql(incidents, value="minutes", groups=["automated"])
    medians = {bool(row["automated"]): row["median"] for row in _fetch(sql, params)}
    return {"manual_median_minutes": medians.get(False), "automated_median_minutes": medians.get(True)}


def runbook_table(company, start, end):
    """
    The runbooks of `company` executed in [start, end), most executed first, each with its executions, success,
    execution time, automated and manual MTTR with their sample sizes, and time saved (see the module).
    """
    return runbook_table_of(
        run_day_totals(runs_started(start, end, company.pk)), signature_day_totals(incidents_resolved(start, end, company.pk))
    )


def runbook_table_of(runs, resolved):
    """
    The runbook table from totals that add up: `runs` (a queryset or RowsSQL of runbook_id and RUN_TOTALS) and
    `resolved` (of SIGNATURE_KEYS and SIGNATURE_TOTALS), each any number of rows per key (a row per day, say).
    """
    runs_sql, runs_params = as_sql(runs)
    resolved_sql, resolved_params = as_sql(resolved)
    count, real = "BIGINT", "FLOAT"
    automated = "resolved.automated = %s"
    sql = f"""
        WITH resolved AS ({resolved_sql}),
        runbook_signatures AS (
            SELECT DISTINCT runbook_id, signature FROM resolved
            WHERE {automated} AND runbook_id <> '' AND signature IS NOT NULL
        )
        SELECT runs.runbook_id, runs.executions, runs.successful_executions, runs.finished_executions,
               runs.avg_execution_time_sec, fixed.automated_incidents, fixed.automated_mttr_minutes,
               manual.manual_incidents, manual.manual_mttr_minutes, signatures.signature
        FROM (
            SELECT runbook_id, CAST(SUM(executions) AS {count}) AS executions,
                   CAST(SUM(successful_executions) AS {count}) AS successful_executions,
                   CAST(SUM(finished_executions) AS {count}) AS finished_executions,
                   CAST(SUM(execution_seconds) AS {real}) / NULLIF(CAST(SUM(finished_executions) AS {real}), 0.0)
                       AS avg_execution_time_sec
            FROM ({runs_sql}) AS executed GROUP BY runbook_id
        ) AS runs
        LEFT JOIN (
            SELECT runbook_id, CAST(SUM(incidents) AS {count}) AS automated_incidents,
                   CAST(SUM(minutes) AS {real}) / CAST(SUM(incidents) AS {real}) AS automated_mttr_minutes
            FROM resolved WHERE {automated} AND runbook_id <> '' GROUP BY runbook_id
        ) AS fixed ON fixed.runbook_id = runs.runbook_id
        LEFT JOIN (
            SELECT runbook_signatures.runbook_id, CAST(SUM(resolved.incidents) AS {count}) AS manual_incidents,
                   CAST(SUM(resolved.minutes) AS {real}) / CAST(SUM(resolved.incidents) AS {real}) AS manual_mttr_minutes
            FROM runbook_signatures
            JOIN resolved ON resolved.signature = runbook_signatures.signature AND NOT ({automated})
            GROUP BY runbook_signatures.runbook_id
        ) AS manual ON manual.runbook_id = runs.runbook_id
        LEFT JOIN runbook_signatures AS signatures ON signatures.runbook_id = runs.runbook_id
        ORDER BY runs.executions DESC, runs.runbook_id
    """
    params = [*resolved_params, True, *runs_params, True, True]
    table = {}
    for row in _fetch(sql, params):
        # A runbook's row repeats once per signature of its incidents (the join); the first row makes its entry.
        entry = table.get(row["runbook_id"]) or table.setdefault(row["runbook_id"], _table_row(row))
        if row["signature"] is not None:
            entry["incident_signatures"].append(row["signature"])
    for entry in table.values():
        entry["incident_signatures"].sort()
    return list(table.values())


def _table_row(row):
    manual, fixed = row["manual_mttr_minutes"], row["automated_mttr_minutes"]
    saved = None if manual is None or fixed is None else round((manual - fixed) * row["executions"], TIME_SAVED_PLACES)
    return {
        "runbook_id": row["runbook_id"],
        "incident_signatures": [],
        "executions": row["executions"],
        "successful_executions": row["successful_executions"],
        "success_rate": round(row["successful_executions"] / row["executions"], 2),
        "finished_executions": row["finished_executions"],
        "avg_execution_time_sec": _rounded(row["avg_execution_time_sec"]),
        "automated_incidents": row["automated_incidents"] or 0,
        "automated_mttr_minutes": _rounded(fixed),
        "manual_incidents": row["manual_incidents"] or 0,
        "manual_mttr_minutes": _rounded(manual),
        "total_time_saved_minutes": saved,
    }


def _rounded(value):
    return None if value is None else round(value, 1)


def total_time_saved(table):
    """The sum of the table's rows' time saved (those that have one), as shown: the rounded rows add up to it."""
    return round(sum(row["total_time_saved_minutes"] for row in table if row["total_time_saved_minutes"] is not None), TIME_SAVED_PLACES)
