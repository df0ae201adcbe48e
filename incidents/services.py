"""
Writes to incident data: alert correlation and change-controlled correlation configs.

Correlation is set-based SQL (window functions, INSERT ... SELECT, UPDATE ... FROM) that runs unchanged
on PostgreSQL and SQLite (3.33 or later); only the "gap longer than the window" test differs by database.
"""
import datetime
import logging

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Count, Exists, Max, OuterRef, Subquery
from django.db.models.expressions import RawSQL
from django.utils import timezone

from companyos.change_control import apply_changes, require_reason, save_with_history

from .choices import INCIDENT_SEVERITY_FOR_ALERT, AlertSeverity, IncidentStatus
from tenancy.models import Company

from .models import Alert, CorrelationConfig, Incident

logger = logging.getLogger(__name__)

# Alerts are correlated a day at a time so that each transaction (and each sort) stays small even for
# millions of alerts; correlating in steps gives the same incidents as correlating at once.
CORRELATION_CHUNK = datetime.timedelta(days=1)

# How each aggregation key field is read from an alert row (aliased `a`).
_KEY_FIELD_SQL = {
    "asset": "a.asset",
    "signature": "a.signature",
    "severity": "a.severity",
    "source": "a.source",
    "service": "COALESCE(CAST(a.service_id AS TEXT), '')",
}

# True when the alert at `issued_at` comes more than `%s` seconds after `previous_issued_at`.
# SQLite keeps timestamps as text; julianday() is exact to the millisecond, so the gap is rounded to it.
_GAP_EXCEEDS_WINDOW_SQL = {
    "postgresql": "issued_at - previous_issued_at > %s * INTERVAL '1 second'",
    "sqlite": "ROUND((julianday(issued_at) - julianday(previous_issued_at)) * 86400000) > %s * 1000",
}


def correlation_config_for(company):
    """The company's correlation config, or the defaults (unsaved) when it has none."""
    try:
        return company.correlation_config
    except CorrelationConfig.DoesNotExist:
        return CorrelationConfig(company=company)


def correlate_alerts(*, company=None, until=None):
    """
    Group every uncorrelated alert issued before `until` (default: now) into incidents; return how many
    incidents were created. Without `company` every company with `auto_correlate` on is correlated. Runs
    right after each batch of alerts commits (ingestion.ingest_alerts), and nightly for what is left (correlate_pending).

    Alerts have the same key when the fields of the company's aggregation key (default asset|signature)
    are equal. Grouping is a session window: an alert joins the group of the previous alert with the same
    key when it was issued at most `time_window_minutes` after it (exactly the window still joins); a longer
    gap starts a new group. A group that continues an incident created by correlation (any of its alerts
    is already in one) joins that incident; any other group creates one: external_id "alert-<first alert
    id>", title "<signature> on <asset>", severity of its most severe alert, detected at its first alert,
    the first alert's service, status open and `correlation_key` set to the key value. An incident joined
    by more severe alerts is raised to their severity. An incident made or joined whose alerts have all ended
    (alerts that resolved before they were correlated) is resolved at the last end (resolve_ended_incidents).

    Late alerts: the result is the grouping that correlating all the alerts at once gives, whatever batches
    they came in and in whatever order within the window, by two rules for incidents made by correlation:
    - An alert issued before an incident's first alert moves the incident's detection to it, and the
      incident's title and service become that alert's (its external_id keeps the alert that made it).
    - A group that joins several incidents (a late alert bridged them) continues the one of its earliest
      alert; each later one is merged into it: its alerts move there, the survivor takes its severity if
      higher, and it is kept with `merged_into` set (never deleted), left out of incident lists and KPIs
      (Incident.objects; Incident.all_objects has it). Only an incident nobody has worked on merges: still
      open, never acknowledged or resolved, no source event, no runbook or automation, no phase, milestone,
      survey response or runbook execution recorded against it, and made with the current aggregation key.
      Any other keeps its alerts and its record; the alerts bridging it join the earlier incident. That case
      alone (and a survivor already resolved, which later alerts never reopen) can differ from correlating
      at once.

    Deterministic and idempotent: re-running creates nothing, and correlating day by day gives the same
    incidents as correlating everything at once.
    """
    until = until or timezone.now()
    if company is not None:
        companies = [company]
    else:
        companies = Company.objects.filter(
            id__in=Alert.objects.filter(incident__isnull=True, issued_at__lt=until).values("company_id")
        ).exclude(correlation_config__auto_correlate=False)
    return sum(_correlate_company(company, until) for company in companies)


def correlate_pending(*, until=None):
    """
    The nightly check: alerts issued before `until` are correlated as they arrive, so none should be pending.
    Correlate those that are (alerts of bulk paths such as the demo, a queued correlation that failed) like
    correlate_alerts without a company, and report what was found: {"pending_alerts", "incidents_created",
    "left_to_command": {company slug: alerts}} -- the alerts of companies with auto_correlate off, left to
    `manage.py correlate_alerts --company`.
    """
    until = until or timezone.now()
    pending = Alert.objects.filter(incident__isnull=True, issued_at__lt=until).order_by()
    manual = pending.filter(company__correlation_config__auto_correlate=False)
    left_to_command = dict(
        manual.values("company__slug").annotate(alerts=Count("id")).values_list("company__slug", "alerts")
    )
    pending_alerts = pending.count()
    created = correlate_alerts(until=until)
    if pending_alerts > sum(left_to_command.values()):
        logger.warning(
            "Correlation found %d alerts pending before %s and made %d incidents of them.",
            pending_alerts - sum(left_to_command.values()), until.isoformat(), created,
        )
    return {"pending_alerts": pending_alerts, "incidents_created": created, "left_to_command": left_to_command}


def _correlate_company(company, until):
    config = correlation_config_for(company)
    window = datetime.timedelta(minutes=config.time_window_minutes)
    created = 0
    while True:
        first_uncorrelated = (
            Alert.objects.filter(company=company, incident__isnull=True, issued_at__lt=until)
            .order_by("issued_at")
            .values_list("issued_at", flat=True)
            .first()
        )
        if first_uncorrelated is None:
            return created
        with transaction.atomic():
            # Serialises concurrent runs for one company; a no-op on SQLite, which has one writer anyway.
            Company.objects.select_for_update().get(pk=company.pk)
            created += _correlate_span(
                company,
                config,
                since=first_uncorrelated - window,
                until=min(first_uncorrelated + CORRELATION_CHUNK, until),
            )


def _correlate_span(company, config, *, since, until):
    """
    Correlate the company's uncorrelated alerts issued in [since + window, until); return incidents created.
    Alerts already correlated within the window around the span take part, so the span's groups continue (and
    join) the incidents they belong to.
    """
    window = datetime.timedelta(minutes=config.time_window_minutes)
    key_sql = " || '|' || ".join(_KEY_FIELD_SQL[field] for field in config.aggregation_key.split("|"))
    rank_sql, rank_params = _case_sql("a.severity", _ALERT_SEVERITY_RANK)
    incident_severity_sql, incident_severity_params = _case_sql("MIN(severity_rank)", _INCIDENT_SEVERITY_FOR_RANK)
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS correlation_batch")
        # Every alert that can take part: the uncorrelated ones and the alerts of incidents made by correlation
        # within the window before and after them. group_id is the id of the group's first alert, found by LAG
        # (a gap beyond the window starts a group) and a running SUM; group_incident_id the incident of the
        # group's first correlated alert, which the group continues.
        cursor.execute(
            f"""
            CREATE TEMP TABLE correlation_batch AS
            WITH scoped AS (
                SELECT a.id, a.incident_id, a.issued_at, {key_sql} AS correlation_key, {rank_sql} AS severity_rank,
                       LAG(a.issued_at) OVER (PARTITION BY {key_sql} ORDER BY a.issued_at, a.id) AS previous_issued_at
                FROM incidents_alert a
                LEFT JOIN incidents_incident i ON i.id = a.incident_id
                WHERE a.company_id = %s AND a.issued_at >= %s AND a.issued_at <= %s
                  AND ((a.incident_id IS NULL AND a.issued_at < %s) OR i.correlation_key <> '')
            ),
            marked AS (
                SELECT *, CASE WHEN previous_issued_at IS NULL OR {_GAP_EXCEEDS_WINDOW_SQL[connection.vendor]}
                               THEN 1 ELSE 0 END AS starts_group
                FROM scoped
            ),
            numbered AS (
                SELECT *, SUM(starts_group) OVER (
                    PARTITION BY correlation_key ORDER BY issued_at, id ROWS UNBOUNDED PRECEDING
                ) AS group_number
                FROM marked
            )
            SELECT id AS alert_id, incident_id, issued_at, correlation_key, severity_rank,
                   FIRST_VALUE(id) OVER (PARTITION BY correlation_key, group_number ORDER BY issued_at, id) AS group_id,
                   FIRST_VALUE(incident_id) OVER (
                       PARTITION BY correlation_key, group_number
                       ORDER BY CASE WHEN incident_id IS NULL THEN 1 ELSE 0 END, issued_at, id
                   ) AS group_incident_id
            FROM numbered
            """,
            [*rank_params, company.pk, since, until + window, until, config.time_window_minutes * 60],
        )
        # Temporary tables have no statistics until analysed; without them the planner picks nested loops.
        cursor.execute("ANALYZE correlation_batch")
        # Groups with no correlated alert become new incidents, in time order so ids are deterministic.
        cursor.execute(
            f"""
            INSERT INTO incidents_incident (company_id, service_id, external_id, title, severity, status, detected_at,
                                            automation_used, runbook_id, correlation_key, created_at)
            SELECT a.company_id, a.service_id, 'alert-' || CAST(a.id AS TEXT), a.signature || ' on ' || a.asset,
                   g.severity, %s, a.issued_at, %s, '', g.correlation_key, %s
            FROM (
                SELECT group_id, correlation_key, {incident_severity_sql} AS severity
                FROM correlation_batch GROUP BY group_id, correlation_key HAVING COUNT(incident_id) = 0
            ) g
            JOIN incidents_alert a ON a.id = g.group_id
            ORDER BY a.issued_at, a.id
            """,
            [IncidentStatus.OPEN, False, timezone.now(), *incident_severity_params],
        )
        created = cursor.rowcount
        _merge_joined_incidents(cursor)
        cursor.execute("DROP TABLE IF EXISTS correlation_targets")
        # Each group with new alerts or merged incidents, the incident it continues (or the one just made), and
        # the top severity rank of what it brings: its new alerts and the incidents merged into it.
        cursor.execute(
            """
            CREATE TEMP TABLE correlation_targets AS
            SELECT g.group_id, COALESCE(g.existing_incident_id, i.id) AS incident_id, g.top_rank
            FROM (
                SELECT b.group_id, MIN(b.group_incident_id) AS existing_incident_id,
                       MIN(CASE WHEN b.incident_id IS NULL THEN b.severity_rank ELSE m.severity_rank END) AS top_rank
                FROM correlation_batch b LEFT JOIN correlation_merges m ON m.incident_id = b.incident_id
                GROUP BY b.group_id HAVING COUNT(*) > COUNT(b.incident_id) OR COUNT(m.incident_id) > 0
            ) g
            LEFT JOIN incidents_incident i ON i.company_id = %s AND i.external_id = 'alert-' || CAST(g.group_id AS TEXT)
            """,
            [company.pk],
        )
        cursor.execute("ANALYZE correlation_targets")
        cursor.execute(
            """
            UPDATE incidents_alert SET incident_id = t.incident_id
            FROM correlation_batch b JOIN correlation_targets t ON t.group_id = b.group_id
            WHERE b.alert_id = incidents_alert.id AND b.incident_id IS NULL
            """
        )
        # An incident continued by a more severe alert (or merged incident) takes that severity.
        raised_sql, raised_params = _case_sql("t.top_rank", _INCIDENT_SEVERITY_FOR_RANK)
        current_rank_sql, current_rank_params = _case_sql(
            "incidents_incident.severity", _RANK_OF_INCIDENT_SEVERITY, default=len(_INCIDENT_SEVERITY_FOR_RANK) + 1
        )
        cursor.execute(
            f"""
            UPDATE incidents_incident SET severity = {raised_sql}
            FROM correlation_targets t
            WHERE t.incident_id = incidents_incident.id AND t.top_rank < {current_rank_sql}
            """,
            [*raised_params, *current_rank_params],
        )
        # An incident joined by an alert issued before its first one is detected then, and described by it.
        cursor.execute(
            """
            UPDATE incidents_incident SET detected_at = a.issued_at, title = a.signature || ' on ' || a.asset,
                                          service_id = a.service_id
            FROM correlation_targets t JOIN incidents_alert a ON a.id = t.group_id
            WHERE t.incident_id = incidents_incident.id AND a.issued_at < incidents_incident.detected_at
            """
        )
    # Alerts that had ended before they were correlated resolve the incidents they make or join. Only a batch
    # holding an ended alert can: an alert still firing keeps its incident open (and a backlog of a million
    # firing alerts skips the look-up altogether).
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT EXISTS (SELECT 1 FROM correlation_batch b JOIN incidents_alert a ON a.id = b.alert_id "
            "WHERE a.ended_at IS NOT NULL)"
        )
        holds_ended_alerts = bool(cursor.fetchone()[0])
    if holds_ended_alerts:
        resolve_ended_incidents(Incident.objects.filter(pk__in=RawSQL("SELECT incident_id FROM correlation_targets", [])))
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE correlation_targets")
        cursor.execute("DROP TABLE correlation_merges")
        cursor.execute("DROP TABLE correlation_batch")
    return created


def _merge_joined_incidents(cursor):
    """
    Merge each later incident that a group of correlation_batch joins into the group's incident (that of its
    first correlated alert): its alerts move there and it is marked merged_into it. Only an incident nobody has
    worked on merges (see correlate_alerts), and only one made with the company's current aggregation key (its
    correlation_key is the group's); the others stay as they are. Leaves correlation_merges (incident_id,
    severity_rank) of the incidents merged.
    """
    rank_sql, rank_params = _case_sql("i.severity", _RANK_OF_INCIDENT_SEVERITY)
    cursor.execute("DROP TABLE IF EXISTS correlation_merges")
    cursor.execute(
        f"""
        CREATE TEMP TABLE correlation_merges AS
        SELECT DISTINCT b.incident_id, b.group_incident_id AS into_id, {rank_sql} AS severity_rank
        FROM correlation_batch b JOIN incidents_incident i ON i.id = b.incident_id
        WHERE b.incident_id <> b.group_incident_id AND i.correlation_key = b.correlation_key
          AND b.incident_id NOT IN (SELECT group_incident_id FROM correlation_batch WHERE group_incident_id IS NOT NULL)
          AND i.status = %s AND i.acknowledged_at IS NULL AND i.resolved_at IS NULL AND i.source_event_id IS NULL
          AND i.automation_used = %s AND i.runbook_id = ''
          AND NOT EXISTS (SELECT 1 FROM incidents_phasetransition p WHERE p.incident_id = i.id)
          AND NOT EXISTS (SELECT 1 FROM incidents_milestone m WHERE m.incident_id = i.id)
          AND NOT EXISTS (SELECT 1 FROM incidents_surveyresponse s WHERE s.incident_id = i.id)
          AND NOT EXISTS (SELECT 1 FROM incidents_runbookexecution r WHERE r.incident_id = i.id)
        """,
        [*rank_params, IncidentStatus.OPEN, False],
    )
    cursor.execute(
        """
        UPDATE incidents_alert SET incident_id = m.into_id
        FROM correlation_merges m WHERE incidents_alert.incident_id = m.incident_id
        """
    )
    cursor.execute(
        """
        UPDATE incidents_incident SET merged_into_id = m.into_id
        FROM correlation_merges m WHERE incidents_incident.id = m.incident_id
        """
    )


def ended_incidents(incidents):
    """
    The incidents of `incidents` that alerts resolve: every alert of theirs has ended, and nobody (a responder,
    PagerDuty, the incidents API) has resolved them already, which wins over the alerts.
    """
    alerts = Alert.objects.filter(incident=OuterRef("pk"))
    return (
        incidents.filter(resolved_at__isnull=True, status__in=[IncidentStatus.OPEN, IncidentStatus.ACKNOWLEDGED])
        .filter(Exists(alerts))
        .exclude(Exists(alerts.filter(ended_at__isnull=True)))
    )


def resolve_ended_incidents(incidents):
    """Resolve the ended incidents of `incidents` (see ended_incidents) at their last alert's end; how many."""
    last_end = Alert.objects.filter(incident=OuterRef("pk")).order_by().values("incident").annotate(last=Max("ended_at"))
    return ended_incidents(incidents).update(status=IncidentStatus.RESOLVED, resolved_at=Subquery(last_end.values("last")))


# Alert severities ranked 1 (most severe) upwards, and the incident severity each rank maps to.
_ALERT_SEVERITY_RANK = {severity: rank for rank, severity in enumerate(AlertSeverity.values, 1)}
_INCIDENT_SEVERITY_FOR_RANK = {
    rank: INCIDENT_SEVERITY_FOR_ALERT[AlertSeverity(severity)].value for severity, rank in _ALERT_SEVERITY_RANK.items()
}
_RANK_OF_INCIDENT_SEVERITY = {severity: rank for rank, severity in _INCIDENT_SEVERITY_FOR_RANK.items()}


def _case_sql(expression, mapping, default="NULL"):
    """A SQL CASE mapping the values of `expression` through `mapping`, with its parameters."""
    whens = " ".join("WHEN %s THEN %s" for _ in mapping)
    return f"CASE {expression} {whens} ELSE {default} END", [value for pair in mapping.items() for value in pair]


@transaction.atomic
def create_correlation_config(company, *, actor, reason, **fields):
    """Give `company` a correlation config; its first history row carries `actor` and `reason`."""
    return save_with_history(CorrelationConfig(company=company, **fields), actor=actor, reason=reason)


@transaction.atomic
def change_correlation_config(config, *, actor, reason, **fields):
    """
    Apply `fields` to `config` and record one history row with who and why.

    Refuses a missing reason, an unknown or non-editable field (the company cannot move) or an invalid
    value, naming the field; nothing is written then. A call that changes nothing writes no history.
    """
    require_reason(reason)
    editable = {"aggregation_key", "time_window_minutes", "auto_correlate"}
    unknown = sorted(set(fields) - editable)
    if unknown:
        raise ValidationError({name: f"'{name}' is not an editable field of a correlation config." for name in unknown})
    return apply_changes(config, fields, actor=actor, reason=reason)
