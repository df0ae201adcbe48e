"""
The correlation engine: set-based SQL (window functions, INSERT ... SELECT, UPDATE ... FROM) that groups a span of a
company's alerts into incidents, for alerts stored and waiting (a backlog) and for alerts staged to be stored with
their incident. It runs unchanged on PostgreSQL and SQLite (3.33 or later); only the "gap longer than the window"
test and date arithmetic differ by database. The rules it implements are correlate_alerts' (incidents.services).
"""
import datetime

from django.db import connection, models
from django.db.models import Exists, Max, OuterRef, Subquery
from django.db.models.expressions import RawSQL
from django.utils import timezone

from companyos.events import announce, incident_data_changed

from .choices import INCIDENT_SEVERITY_FOR_ALERT, AlertSeverity, IncidentStatus
from .models import Alert, Incident

# The finest step of a stored time: the end of a span just after its last alert.
TIME_RESOLUTION = datetime.timedelta(microseconds=1)

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

# The UTC date of a stored time; SQLite keeps times as UTC text.
_UTC_DATE_SQL = {
    "postgresql": "CAST({} AT TIME ZONE 'UTC' AS DATE)",
    "sqlite": "DATE({})",
}

# The alert columns correlation reads, from stored alerts and from alerts staged to be stored.
_ALERT_COLUMNS = "id, company_id, incident_id, issued_at, asset, signature, severity, source, service_id, ended_at"


def reserve_alert_ids(count):
    """The next `count` ids of the alert table, ascending, taken so that no other insert gets them."""
    table = Alert._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)", [table, count])
            return sorted(row[0] for row in cursor.fetchall())
        # SQLite: this first write takes the database's single writer lock, so no other insert can take these ids
        # before the transaction ends; AUTOINCREMENT never hands out an id at or below sqlite_sequence's.
        cursor.execute(
            "INSERT INTO sqlite_sequence (name, seq) SELECT %s, 0 WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = %s)",
            [table, table],
        )
        cursor.execute(
            f"UPDATE sqlite_sequence SET seq = MAX(seq, (SELECT COALESCE(MAX(id), 0) FROM {table})) + %s WHERE name = %s",
            [count, table],
        )
        cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [table])
        last = cursor.fetchone()[0]
    return list(range(last - count + 1, last + 1))


def stage_alerts(alerts):
    """Put `alerts` (unsaved, their ids set) into the temporary table correlation_staged, shaped as the alert table."""
    fields = Alert._meta.concrete_fields
    columns = ", ".join(connection.ops.quote_name(field.column) for field in fields)
    copying = connection.vendor == "postgresql"
    # COPY adapts Python values as Django would, all but JSON; the portable INSERT takes Django's preparation.
    prepared = [not copying or isinstance(field, models.JSONField) for field in fields]
    rows = [
        [
            field.get_db_prep_save(value, connection) if prepare else value
            for field, prepare, value in zip(fields, prepared, (field.pre_save(alert, add=True) for field in fields))
        ]
        for alert in alerts
    ]
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS correlation_staged")
        cursor.execute(f"CREATE TEMP TABLE correlation_staged AS SELECT {columns} FROM {Alert._meta.db_table} WHERE 1 = 0")
        if copying:
            # One stream for a request's thousand rows, rather than a statement of thirteen thousand parameters.
            with cursor.cursor.copy(f"COPY correlation_staged ({columns}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            row_sql = f"({', '.join(['%s'] * len(fields))})"
            batch_size = connection.ops.bulk_batch_size(fields, alerts)
            for start in range(0, len(rows), batch_size):
                batch = rows[start:start + batch_size]
                cursor.execute(
                    f"INSERT INTO correlation_staged ({columns}) VALUES {', '.join([row_sql] * len(batch))}",
                    [value for row in batch for value in row],
                )
        cursor.execute("ANALYZE correlation_staged")


def correlate_span(company, config, *, since, until, staged=False):
    """
    Correlate the company's uncorrelated alerts issued in [since + window, until); return incidents created.
    Alerts already correlated within the window around the span take part, so the span's groups continue (and
    join) the incidents they belong to. `staged`: the alerts of correlation_staged (see stage_alerts), issued
    in [since + window, until), are correlated and inserted with their incidents, together with the stored
    uncorrelated alerts of the span that have their keys (updated). Announces incident_data_changed for the days
    it touched.
    """
    window = datetime.timedelta(minutes=config.time_window_minutes)
    key_sql = " || '|' || ".join(_KEY_FIELD_SQL[field] for field in config.aggregation_key.split("|"))
    rank_sql, rank_params = _case_sql("a.severity", _ALERT_SEVERITY_RANK)
    incident_severity_sql, incident_severity_params = _case_sql("MIN(severity_rank)", _INCIDENT_SEVERITY_FOR_RANK)
    alerts_sql, staged_keys_sql = Alert._meta.db_table, ""
    if staged:
        alerts_sql = f"(SELECT {_ALERT_COLUMNS} FROM {alerts_sql} UNION ALL SELECT {_ALERT_COLUMNS} FROM correlation_staged)"
        # Groups never cross keys: only the keys of the staged alerts can change.
        staged_keys_sql = f"AND {key_sql} IN (SELECT {key_sql} FROM correlation_staged a)"
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS correlation_batch")
        # Every alert that can take part: the uncorrelated ones and the alerts of incidents made by correlation
        # within the window before and after them. group_id is the id of the group's first alert, found by LAG
        # (a gap beyond the window starts a group) and a running SUM; group_incident_id the incident of the
        # group's first correlated alert, which the group continues. The first alert of a group also carries the
        # service and title it gives an incident (NULL on the others, so they cost no space).
        cursor.execute(
            f"""
            CREATE TEMP TABLE correlation_batch AS
            WITH scoped AS (
                SELECT a.id, a.incident_id, a.issued_at, a.service_id, a.asset, a.signature,
                       {key_sql} AS correlation_key, {rank_sql} AS severity_rank,
                       CASE WHEN a.ended_at IS NULL THEN 0 ELSE 1 END AS has_ended,
                       LAG(a.issued_at) OVER (PARTITION BY {key_sql} ORDER BY a.issued_at, a.id) AS previous_issued_at
                FROM {alerts_sql} a
                LEFT JOIN incidents_incident i ON i.id = a.incident_id
                WHERE a.company_id = %s AND a.issued_at >= %s AND a.issued_at <= %s
                  AND ((a.incident_id IS NULL AND a.issued_at < %s) OR i.correlation_key <> '') {staged_keys_sql}
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
            SELECT id AS alert_id, incident_id, issued_at, correlation_key, severity_rank, has_ended,
                   CASE WHEN starts_group = 1 THEN service_id END AS first_service_id,
                   CASE WHEN starts_group = 1 THEN signature || ' on ' || asset END AS first_title,
                   FIRST_VALUE(id) OVER (PARTITION BY correlation_key, group_number ORDER BY issued_at, id) AS group_id,
                   FIRST_VALUE(incident_id) OVER (
                       PARTITION BY correlation_key, group_number
                       ORDER BY CASE WHEN incident_id IS NULL THEN 1 ELSE 0 END, issued_at, id
                   ) AS group_incident_id
            FROM numbered
            """,
            [*rank_params, company.pk, since, until + window, until, config.time_window_minutes * 60],
        )
        # Temporary tables have no statistics until analysed; without them the planner picks nested loops. The index
        # keeps the UPDATE's look-up of each alert cheap whatever join the planner picks for a month partition.
        cursor.execute("CREATE INDEX correlation_batch_alert ON correlation_batch (alert_id)")
        cursor.execute("ANALYZE correlation_batch")
        # Groups with no correlated alert become new incidents, in time order so ids are deterministic.
        cursor.execute(
            f"""
            INSERT INTO incidents_incident (company_id, service_id, external_id, title, severity, status, detected_at,
                                            automation_used, runbook_id, correlation_key, created_at)
            SELECT %s, g.service_id, 'alert-' || CAST(g.group_id AS TEXT), g.title,
                   g.severity, %s, g.first_issued_at, %s, '', g.correlation_key, %s
            FROM (
                SELECT group_id, correlation_key, MIN(issued_at) AS first_issued_at, MAX(first_service_id) AS service_id,
                       MAX(first_title) AS title, {incident_severity_sql} AS severity
                FROM correlation_batch GROUP BY group_id, correlation_key HAVING COUNT(incident_id) = 0
            ) g
            ORDER BY g.first_issued_at, g.group_id
            """,
            [company.pk, IncidentStatus.OPEN, False, timezone.now(), *incident_severity_params],
        )
        created = cursor.rowcount
        days = _merge_joined_incidents(cursor)
        cursor.execute("DROP TABLE IF EXISTS correlation_targets")
        # Each group with new alerts or merged incidents, the incident it continues (or the one just made), the
        # time, service and title of its first alert, and the top severity rank of what it brings: its new alerts and the incidents
        # merged into it.
        cursor.execute(
            """
            CREATE TEMP TABLE correlation_targets AS
            SELECT g.group_id, g.first_issued_at, g.first_service_id, g.first_title,
                   COALESCE(g.existing_incident_id, i.id) AS incident_id, g.top_rank
            FROM (
                SELECT b.group_id, MIN(b.issued_at) AS first_issued_at, MAX(b.first_service_id) AS first_service_id,
                       MAX(b.first_title) AS first_title, MIN(b.group_incident_id) AS existing_incident_id,
                       MIN(CASE WHEN b.incident_id IS NULL THEN b.severity_rank ELSE m.severity_rank END) AS top_rank
                FROM correlation_batch b LEFT JOIN correlation_merges m ON m.incident_id = b.incident_id
                GROUP BY b.group_id HAVING COUNT(*) > COUNT(b.incident_id) OR COUNT(m.incident_id) > 0
            ) g
            LEFT JOIN incidents_incident i ON i.company_id = %s AND i.external_id = 'alert-' || CAST(g.group_id AS TEXT)
            """,
            [company.pk],
        )
        # Joining alerts on id and issued_at, the planner expects one row per month partition and loops over the
        # targets for each alert: indexed, that loop is a look-up (a month's backlog took minutes without it).
        cursor.execute("CREATE INDEX correlation_targets_group ON correlation_targets (group_id)")
        cursor.execute("ANALYZE correlation_targets")
        # The days whose figures change: those of the alerts correlated now and of the incidents they make or
        # join, as they were detected before this run moves them.
        days |= _utc_dates(
            cursor,
            f"""
            SELECT {_utc_date_sql("b.issued_at")} FROM correlation_batch b WHERE b.incident_id IS NULL
            UNION SELECT {_utc_date_sql("i.detected_at")}
            FROM correlation_targets t JOIN incidents_incident i ON i.id = t.incident_id
            """,
        )
        # Stored alerts are updated; the span's bounds let the index of uncorrelated alerts find them.
        cursor.execute(
            """
            UPDATE incidents_alert SET incident_id = t.incident_id
            FROM correlation_batch b JOIN correlation_targets t ON t.group_id = b.group_id
            WHERE b.alert_id = incidents_alert.id AND b.issued_at = incidents_alert.issued_at AND b.incident_id IS NULL
              AND incidents_alert.company_id = %s AND incidents_alert.incident_id IS NULL
              AND incidents_alert.issued_at >= %s AND incidents_alert.issued_at < %s
            """,
            [company.pk, since, until],
        )
        if staged:
            # Staged alerts are written once, with their incident.
            columns = [field.column for field in Alert._meta.concrete_fields]
            values = ["t.incident_id" if column == "incident_id" else f"s.{column}" for column in columns]
            cursor.execute(
                f"""
                INSERT INTO incidents_alert ({", ".join(columns)})
                SELECT {", ".join(values)}
                FROM correlation_staged s
                JOIN correlation_batch b ON b.alert_id = s.id
                JOIN correlation_targets t ON t.group_id = b.group_id
                """
            )
            cursor.execute("DROP TABLE correlation_staged")
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
            UPDATE incidents_incident SET detected_at = t.first_issued_at, title = t.first_title, service_id = t.first_service_id
            FROM correlation_targets t
            WHERE t.incident_id = incidents_incident.id AND t.first_issued_at < incidents_incident.detected_at
            """
        )
        # Alerts that had ended before they were correlated resolve the incidents they make or join. Only a batch
        # holding an ended alert can: an alert still firing keeps its incident open (and a backlog of a million
        # firing alerts skips the look-up altogether).
        cursor.execute("SELECT EXISTS (SELECT 1 FROM correlation_batch WHERE has_ended = 1)")
        holds_ended_alerts = bool(cursor.fetchone()[0])
    if holds_ended_alerts:
        resolve_ended_incidents(Incident.objects.filter(pk__in=RawSQL("SELECT incident_id FROM correlation_targets", [])))
    with connection.cursor() as cursor:
        if holds_ended_alerts:
            days |= _utc_dates(
                cursor,
                f"""
                SELECT {_utc_date_sql("i.resolved_at")}
                FROM correlation_targets t JOIN incidents_incident i ON i.id = t.incident_id
                WHERE i.resolved_at IS NOT NULL
                """,
            )
        cursor.execute("DROP TABLE correlation_targets")
        cursor.execute("DROP TABLE correlation_merges")
        cursor.execute("DROP TABLE correlation_batch")
    if days:
        announce(incident_data_changed, sender=Incident, company_id=company.pk, days=days)
    return created


def _utc_date_sql(column):
    return _UTC_DATE_SQL[connection.vendor].format(column)


def _utc_dates(cursor, sql, params=()):
    """The dates the one-column query `sql` lists (SQLite gives them as text)."""
    cursor.execute(sql, params)
    return {datetime.date.fromisoformat(str(day)) for (day,) in cursor.fetchall() if day is not None}


def _merge_joined_incidents(cursor):
    """
    Merge each later incident that a group of correlation_batch joins into the group's incident (that of its
    first correlated alert): its alerts move there and it is marked merged_into it. Only an incident nobody has
    worked on merges (see correlate_alerts), and only one made with the company's current aggregation key (its
    correlation_key is the group's); the others stay as they are. Leaves correlation_merges (incident_id,
    severity_rank) of the incidents merged; returns the days of the alerts moved and of the incidents merged.
    """
    cursor.execute("DROP TABLE IF EXISTS correlation_merges")
    # The candidates first, from the batch alone: they are rare, and the few of them then lead every look-up.
    cursor.execute(
        """
        CREATE TEMP TABLE correlation_merges AS
        SELECT DISTINCT b.incident_id, b.group_incident_id AS into_id, b.correlation_key, 0 AS severity_rank
        FROM correlation_batch b
        WHERE b.incident_id <> b.group_incident_id
          AND NOT EXISTS (SELECT 1 FROM correlation_batch g WHERE g.group_incident_id = b.incident_id)
        """
    )
    cursor.execute("SELECT EXISTS (SELECT 1 FROM correlation_merges)")
    if not cursor.fetchone()[0]:
        return set()
    cursor.execute("ANALYZE correlation_merges")
    cursor.execute(
        """
        DELETE FROM correlation_merges WHERE NOT EXISTS (
            SELECT 1 FROM incidents_incident i
            WHERE i.id = correlation_merges.incident_id AND i.correlation_key = correlation_merges.correlation_key
              AND i.status = %s AND i.acknowledged_at IS NULL AND i.resolved_at IS NULL AND i.source_event_id IS NULL
              AND i.automation_used = %s AND i.runbook_id = ''
              AND NOT EXISTS (SELECT 1 FROM incidents_phasetransition p WHERE p.incident_id = i.id)
              AND NOT EXISTS (SELECT 1 FROM incidents_milestone m WHERE m.incident_id = i.id)
              AND NOT EXISTS (SELECT 1 FROM incidents_surveyresponse s WHERE s.incident_id = i.id)
              AND NOT EXISTS (SELECT 1 FROM incidents_runbookexecution r WHERE r.incident_id = i.id)
        )
        """,
        [IncidentStatus.OPEN, False],
    )
    rank_sql, rank_params = _case_sql("i.severity", _RANK_OF_INCIDENT_SEVERITY)
    cursor.execute(
        f"""
        UPDATE correlation_merges SET severity_rank = (
            SELECT {rank_sql} FROM incidents_incident i WHERE i.id = correlation_merges.incident_id
        )
        """,
        rank_params,
    )
    days = _utc_dates(
        cursor,
        f"""
        SELECT {_utc_date_sql("a.issued_at")} FROM correlation_merges m JOIN incidents_alert a ON a.incident_id = m.incident_id
        UNION SELECT {_utc_date_sql("i.detected_at")} FROM correlation_merges m JOIN incidents_incident i ON i.id = m.incident_id
        """,
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
    return days


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
