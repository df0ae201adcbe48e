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
from django.db.models import F, OuterRef, Subquery

from incidents.models import Alert, Incident, RunbookExecution

from .toolkit import MinutesBetween, median_sql

# The row of a runbook whose figures the table shows, rounded for people; the total adds up the rounded rows.
TIME_SAVED_PLACES = 1


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


def resolved_incidents(company, start, end):
    """`resolution_times` with each incident's `signature`."""
    return resolution_times(company, start, end).annotate(signature=first_alert_signature())


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


def _signatures(company, start, end):
    """{runbook_id: sorted signatures of its incidents resolved in [start, end)}."""
    pairs = (
        resolved_incidents(company, start, end)
        .filter(automated=True)
        .exclude(runbook_id="")
        .filter(signature__isnull=False)
        .values_list("runbook_id", "signature")
        .distinct()
    )
    signatures = {}
    for runbook_id, signature in sorted(pairs):
        signatures.setdefault(runbook_id, []).append(signature)
    return signatures


def runbook_table(company, start, end):
    """
    The runbooks of `company` executed in [start, end), most executed first, each with its executions, success,
    execution time, automated and manual MTTR with their sample sizes, and time saved (see the module).
    """
    runs = RunbookExecution.objects.filter(company=company, started_at__gte=start, started_at__lt=end).order_by()
    runs_sql, runs_params = runs.values("runbook_id", "success", seconds=MinutesBetween(F("finished_at"), F("started_at")) * 60.0).query.sql_with_params()
    resolved_sql, resolved_params = resolved_incidents(company, start, end).query.sql_with_params()
    automated = "resolved.automated = %s"
    sql = f"""
        WITH resolved AS ({resolved_sql}),
        runbook_signatures AS (
            SELECT DISTINCT runbook_id, signature FROM resolved
            WHERE {automated} AND runbook_id <> '' AND signature IS NOT NULL
        )
        SELECT runs.runbook_id, runs.executions, runs.successful_executions, runs.finished_executions,
               runs.avg_execution_time_sec, fixed.automated_incidents, fixed.automated_mttr_minutes,
               manual.manual_incidents, manual.manual_mttr_minutes
        FROM (
            SELECT runbook_id, COUNT(*) AS executions,
                   COUNT(CASE WHEN success = %s THEN 1 END) AS successful_executions,
                   COUNT(seconds) AS finished_executions, AVG(seconds) AS avg_execution_time_sec
            FROM ({runs_sql}) AS executed GROUP BY runbook_id
        ) AS runs
        LEFT JOIN (
            SELECT runbook_id, COUNT(*) AS automated_incidents, AVG(minutes) AS automated_mttr_minutes
            FROM resolved WHERE {automated} AND runbook_id <> '' GROUP BY runbook_id
        ) AS fixed ON fixed.runbook_id = runs.runbook_id
        LEFT JOIN (
            SELECT runbook_signatures.runbook_id, COUNT(*) AS manual_incidents, AVG(resolved.minutes) AS manual_mttr_minutes
            FROM runbook_signatures
            JOIN resolved ON resolved.signature = runbook_signatures.signature AND NOT ({automated})
            GROUP BY runbook_signatures.runbook_id
        ) AS manual ON manual.runbook_id = runs.runbook_id
        ORDER BY runs.executions DESC, runs.runbook_id
    """
    params = [*resolved_params, True, True, *runs_params, True, True]
    signatures = _signatures(company, start, end)
    table = []
    for row in _fetch(sql, params):
        manual, fixed = row["manual_mttr_minutes"], row["automated_mttr_minutes"]
        saved = None if manual is None or fixed is None else round((manual - fixed) * row["executions"], TIME_SAVED_PLACES)
        table.append({
            "runbook_id": row["runbook_id"],
            "incident_signatures": signatures.get(row["runbook_id"], []),
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
        })
    return table


def _rounded(value):
    return None if value is None else round(value, 1)


def total_time_saved(table):
    """The sum of the table's rows' time saved (those that have one), as shown: the rounded rows add up to it."""
    return round(sum(row["total_time_saved_minutes"] for row in table if row["total_time_saved_minutes"] is not None), TIME_SAVED_PLACES)
