"""
Writes to incident data: alert correlation and change-controlled correlation configs.

Correlation is set-based SQL (window functions, INSERT ... SELECT, UPDATE ... FROM) that runs unchanged
on PostgreSQL and SQLite (3.33 or later); only the "gap longer than the window" test differs by database.
"""
import datetime

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone

from companyos.change_control import apply_changes, require_reason, save_with_history

from .choices import INCIDENT_SEVERITY_FOR_ALERT, AlertSeverity, IncidentStatus
from tenancy.models import Company

from .models import Alert, CorrelationConfig

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
    incidents were created. Without `company` every company with `auto_correlate` on is correlated.

    Alerts have the same key when the fields of the company's aggregation key (default asset|signature)
    are equal. Grouping is a session window: an alert joins the group of the previous alert with the same
    key when it was issued at most `time_window_minutes` after it (exactly the window still joins); a longer
    gap starts a new group. A group that continues an incident created by correlation (its previous alert
    is already in one) joins that incident; any other group creates one: external_id "alert-<first alert
    id>", title "<signature> on <asset>", severity of its most severe alert, detected at its first alert,
    the first alert's service, status open and `correlation_key` set to the key value. An incident joined
    by more severe alerts is raised to their severity.

    Deterministic and idempotent: re-running creates nothing, and correlating day by day gives the same
    incidents as correlating everything at once. Alerts that arrive late, issued before alerts already
    correlated, join by the same rule but never move an incident's start.
    """
    until = until or timezone.now()
    if company is not None:
        companies = [company]
    else:
        companies = Company.objects.filter(
            id__in=Alert.objects.filter(incident__isnull=True, issued_at__lt=until).values("company_id")
        ).exclude(correlation_config__auto_correlate=False)
    return sum(_correlate_company(company, until) for company in companies)


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
    """Correlate the company's uncorrelated alerts issued in [since + window, until); return incidents created."""
    key_sql = " || '|' || ".join(_KEY_FIELD_SQL[field] for field in config.aggregation_key.split("|"))
    rank_sql, rank_params = _case_sql("a.severity", _ALERT_SEVERITY_RANK)
    incident_severity_sql, incident_severity_params = _case_sql("MIN(severity_rank)", _INCIDENT_SEVERITY_FOR_RANK)
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS correlation_batch")
        # Every alert that can take part: the uncorrelated ones and, to continue their incidents, the
        # alerts already correlated by key within the window before them. group_id is the id of the
        # group's first alert, found by LAG (a gap beyond the window starts a group) and a running SUM.
        cursor.execute(
            f"""
            CREATE TEMP TABLE correlation_batch AS
            WITH scoped AS (
                SELECT a.id, a.incident_id, a.issued_at, {key_sql} AS correlation_key, {rank_sql} AS severity_rank,
                       LAG(a.issued_at) OVER (PARTITION BY {key_sql} ORDER BY a.issued_at, a.id) AS previous_issued_at
                FROM incidents_alert a
                LEFT JOIN incidents_incident i ON i.id = a.incident_id
                WHERE a.company_id = %s AND a.issued_at >= %s AND a.issued_at < %s
                  AND (a.incident_id IS NULL OR i.correlation_key <> '')
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
            SELECT id AS alert_id, incident_id, correlation_key, severity_rank,
                   FIRST_VALUE(id) OVER (PARTITION BY correlation_key, group_number ORDER BY issued_at, id) AS group_id
            FROM numbered
            """,
            [*rank_params, company.pk, since, until, config.time_window_minutes * 60],
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
        cursor.execute("DROP TABLE IF EXISTS correlation_targets")
        cursor.execute(
            """
            CREATE TEMP TABLE correlation_targets AS
            SELECT g.group_id, COALESCE(g.existing_incident_id, i.id) AS incident_id, g.top_rank
            FROM (
                SELECT group_id, MIN(incident_id) AS existing_incident_id, MIN(severity_rank) AS top_rank
                FROM correlation_batch GROUP BY group_id HAVING COUNT(*) > COUNT(incident_id)
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
        # An incident continued by a more severe alert takes that alert's severity.
        raised_sql, raised_params = _case_sql("t.top_rank", _INCIDENT_SEVERITY_FOR_RANK)
        current_rank_sql, current_rank_params = _case_sql(
            "incidents_incident.severity",
            {severity: rank for rank, severity in _INCIDENT_SEVERITY_FOR_RANK.items()},
            default=len(_INCIDENT_SEVERITY_FOR_RANK) + 1,
        )
        cursor.execute(
            f"""
            UPDATE incidents_incident SET severity = {raised_sql}
            FROM correlation_targets t
            WHERE t.incident_id = incidents_incident.id AND t.top_rank < {current_rank_sql}
            """,
            [*raised_params, *current_rank_params],
        )
        cursor.execute("DROP TABLE correlation_targets")
        cursor.execute("DROP TABLE correlation_batch")
    return created


# Alert severities ranked 1 (most severe) upwards, and the incident severity each rank maps to.
_ALERT_SEVERITY_RANK = {severity: rank for rank, severity in enumerate(AlertSeverity.values, 1)}
_INCIDENT_SEVERITY_FOR_RANK = {
    rank: INCIDENT_SEVERITY_FOR_ALERT[AlertSeverity(severity)].value for severity, rank in _ALERT_SEVERITY_RANK.items()
}


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
