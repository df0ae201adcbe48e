"""
`make bench`: the nightly work and the API on a large demo data set in a separate PostgreSQL database.

    python -m companyos.bench [--scale full|small] [--database-url postgres://.../companyos_bench]

Drops and recreates the benchmark database, seeds it with `seed_demo` and the connectors' demo history
(`seed_demo_sources`), then times each step and prints one table: seconds, rows per second, and the process's
peak memory after the step. Correlation and each calculator with an entry in FLOOR_ROWS_SQL are also done by
one hand-written PostgreSQL statement that produces and stores the same rows (the floor), with the ratio ours /
floor and a note when the floor's row count differs from ours. Targets are reported, never asserted; a missed one
is printed as such.
"""
import argparse
import datetime
import json
import multiprocessing
import os
import resource
import secrets
import socket
import statistics
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
import requests

PROJECT_DIR = Path(__file__).resolve().parent.parent
SCALES = {
    "full": {"companies": 3, "incidents": 100_000, "alerts": 1_000_000, "days": 90},
    "small": {"companies": 3, "incidents": 1_000, "alerts": 10_000, "days": 14},
}
REQUESTS_PER_ENDPOINT = 200
INGEST_BATCH = 10_000
GUNICORN_WORKERS = 2
INGEST_BATCHES = {"full": 10, "small": 2}
TARGETS = {"nightly_seconds": 60, "floor_ratio": 1.5, "scorecard_p95_ms": 50, "ingest_rows_per_second": 50_000}

# Floors: our step's result computed and stored by one hand-written PostgreSQL statement, the way an ideal
# implementation would, on the same data. Each runs just before our step, in a transaction that is then rolled
# back, so both write into the same empty key range; its deferred foreign keys are checked at the statement's
# end, as ours are at its commits.

# Correlation of every uncorrelated alert at once: session windows of the seed's (default) key asset|signature,
# within each company's window; one incident per group (severity P1-P4 from its most severe alert), linked to its
# alerts. Selects the number of incidents created.
CORRELATION_FLOOR_SQL = """
WITH marked AS (
    SELECT a.id, a.company_id, a.service_id, a.asset, a.signature, a.issued_at,
           CASE a.severity WHEN 'critical' THEN 1 WHEN 'high' THEN 2 WHEN 'warning' THEN 3 ELSE 4 END AS severity_rank,
           COALESCE(a.issued_at - lag(a.issued_at) OVER key_order > make_interval(mins => COALESCE(c.time_window_minutes, 15)), true)
               AS starts_group
    FROM incidents_alert a
    LEFT JOIN incidents_correlationconfig c ON c.company_id = a.company_id
    WHERE a.incident_id IS NULL AND a.issued_at < now() AND c.auto_correlate IS NOT false
    WINDOW key_order AS (PARTITION BY a.company_id, a.asset, a.signature ORDER BY a.issued_at, a.id)
),
grouped AS (
    SELECT *, count(*) FILTER (WHERE starts_group) OVER (
        PARTITION BY company_id, asset, signature ORDER BY issued_at, id ROWS UNBOUNDED PRECEDING
    ) AS group_number
    FROM marked
),
groups AS (
    SELECT company_id, asset, signature, group_number, min(issued_at) AS detected_at, min(severity_rank) AS severity_rank,
           min(id) FILTER (WHERE starts_group) AS first_id, min(service_id) FILTER (WHERE starts_group) AS service_id
    FROM grouped GROUP BY company_id, asset, signature, group_number
),
created AS (
    INSERT INTO incidents_incident (company_id, service_id, external_id, title, severity, status, detected_at,
                                    automation_used, runbook_id, correlation_key, created_at)
    SELECT company_id, service_id, 'alert-' || first_id, signature || ' on ' || asset, 'P' || severity_rank, 'open',
           detected_at, false, '', asset || '|' || signature, now()
    FROM groups
    RETURNING id, company_id, external_id
),
linked AS (
    UPDATE incidents_alert a SET incident_id = i.id
    FROM grouped member
    JOIN groups g USING (company_id, asset, signature, group_number)
    JOIN created i ON i.company_id = g.company_id AND i.external_id = 'alert-' || g.first_id
    WHERE a.id = member.id
)
SELECT count(*) FROM created
"""

# A calculator's floor is one entry of FLOOR_ROWS_SQL: its slug -> a SELECT of its rows over the whole period
# [%(since)s, %(until)s) at once, as (company_id, domain_id, service_id, incident_id, observed_at, value); a DAY-grain
# KPI has a row per company and UTC day at 00:00, its rolling windows summed from daily totals (distinct users from
# each user's active days, users_in_windows_sql). FLOOR_UPSERT_SQL stores them by the observation key as
# kpis.observations does (the stale rows ours then looks for cannot exist in an empty range).
FLOOR_UPSERT_SQL = """
INSERT INTO kpis_observation
    (kpi_id, company_id, domain_id, service_id, incident_id, observed_at, value, confidence, source, run, computed_at)
SELECT %(kpi)s, company_id, domain_id, service_id, incident_id, observed_at, value, 1.0, %(source)s, %(run)s, now()
FROM ({rows}) computed (company_id, domain_id, service_id, incident_id, observed_at, value)
WHERE value IS NOT NULL
ON CONFLICT (kpi_id, COALESCE(incident_id, 0), company_id, COALESCE(domain_id, 0), COALESCE(service_id, 0), observed_at)
DO UPDATE SET value = excluded.value, confidence = excluded.confidence, source = excluded.source, run = excluded.run,
              computed_at = excluded.computed_at
WHERE kpis_observation.source IN ('nightly', 'backfill')
"""


def window_totals_sql(daily, totals, days=30):
    """
    A SELECT of company_id, day and `totals` for every company and day of the period with data in the `days` days
    ending with it, from `daily`, a SELECT of company_id, day (00:00 UTC) and the day's totals: each day's totals
    count toward the `days` days that start with it (`ahead` days later); `totals` aggregates them.
    """
    return f"""
        WITH daily AS ({daily})
        SELECT company_id, day + ahead * interval '1 day' AS day, {totals}
        FROM daily CROSS JOIN generate_series(0, {days - 1}) AS ahead
        WHERE day + ahead * interval '1 day' >= %(since)s AND day + ahead * interval '1 day' < %(until)s
        GROUP BY 1, 2
    """


def rolling_rows_sql(daily, value, days=30):
    """A rolling KPI's floor rows: `value` aggregates the totals of `daily` over the `days` days ending with each day."""
    return f"""
        SELECT company_id, NULL::bigint, NULL::bigint, NULL::bigint, day, value
        FROM ({window_totals_sql(daily, f"{value} AS value", days)}) windows
    """


def users_in_windows_sql(days, first):
    """
    A SELECT of company_id, day (00:00 UTC) and `users`, the distinct users active in the `days` days ending with
    the day, for the days from `first` (an SQL datetime) on: each day a user is active counts them on the days of
    its window that their previous active day's window did not cover, so each counts once without a DISTINCT.
    """
    return f"""
        SELECT company_id, counted AS day, count(*) AS users
        FROM (
            SELECT company_id, day, lag(day) OVER (PARTITION BY company_id, user_id ORDER BY day) AS previous
            FROM (
                SELECT DISTINCT company_id, user_id, day FROM product_activeuser
                WHERE day >= {first} - interval '{days - 1} days' AND day < %(until)s
            ) active_days
        ) active
        CROSS JOIN generate_series(
            greatest(day, previous + {days})::timestamp AT TIME ZONE 'UTC', (day + {days - 1})::timestamp AT TIME ZONE 'UTC',
            interval '1 day'
        ) AS counted
        GROUP BY 1, 2
    """


def daily_cost_sql(days_before, products=None):
    """
    A SELECT of company_id, day and `cost`: the cloud cost (of `products` only) per UTC day, from `days_before` days
    before the period.
    """
    codes = ", ".join(f"'{code}'" for code in products or ())
    only = f"AND product_code IN ({codes})" if products else ""
    return f"""
        SELECT company_id, date_trunc('day', usage_start, 'UTC') AS day, sum(unblended_cost) AS cost
        FROM finance_cloudcostlineitem
        WHERE usage_start >= %(since)s - interval '{days_before} days' AND usage_start < %(until)s {only}
        GROUP BY 1, 2
    """


# The days of the period, for the KPIs that have a value on days without any event (a count of 0, an age).
PERIOD_DAYS_SQL = "generate_series(%(since)s, %(until)s - interval '1 day', interval '1 day') AS days (day)"
# The company of each service, for the scanners' rows (which belong to a service).
SERVICE_COMPANIES_SQL = """
    SELECT s.id AS service_id, d.company_id FROM incidents_service s JOIN incidents_domain d ON d.id = s.domain_id
"""


def month_of_sql(day):
    """The billing month (as finance_revenuerecord.month holds it) of the UTC day `day` (an SQL datetime)."""
    return f"date_trunc('month', {day} AT TIME ZONE 'UTC')::date"


FLOOR_ROWS_SQL = {
    "mttr": """
        SELECT i.company_id, s.domain_id, i.service_id, i.id, i.resolved_at, extract(epoch FROM i.resolved_at - i.detected_at) / 60
        FROM incidents_incident i LEFT JOIN incidents_service s ON s.id = i.service_id
        WHERE i.resolved_at >= %(since)s AND i.resolved_at < %(until)s
    """,
    "mtta": """
        SELECT i.company_id, s.domain_id, i.service_id, i.id, gather.entered_at,
               extract(epoch FROM gather.entered_at - COALESCE(
                   (SELECT min(a.issued_at) FROM incidents_alert a WHERE a.incident_id = i.id), alert.entered_at, i.detected_at
               )) / 60
        FROM incidents_phasetransition gather
        JOIN incidents_incident i ON i.id = gather.incident_id
        LEFT JOIN incidents_phasetransition alert ON alert.incident_id = i.id AND alert.phase = 'alert'
        LEFT JOIN incidents_service s ON s.id = i.service_id
        WHERE gather.phase = 'gather' AND gather.entered_at >= %(since)s AND gather.entered_at < %(until)s
    """,
    "cadence-adherence": """
        SELECT i.company_id, s.domain_id, i.service_id, i.id, m.last_eta, m.on_time_pct
        FROM (
            SELECT incident_id, max(committed_eta) AS last_eta,
                   100.0 * count(*) FILTER (WHERE delivered_at <= committed_eta) / count(*) AS on_time_pct
            FROM incidents_milestone GROUP BY incident_id
            HAVING max(committed_eta) >= %(since)s AND max(committed_eta) < least(%(until)s, now())
        ) m
        JOIN incidents_incident i ON i.id = m.incident_id LEFT JOIN incidents_service s ON s.id = i.service_id
    """,
    "stakeholder-satisfaction": """
        SELECT i.company_id, s.domain_id, i.service_id, i.id, r.last_response, r.mean_score
        FROM (
            SELECT incident_id, max(submitted_at) AS last_response, avg(score) AS mean_score
            FROM incidents_surveyresponse GROUP BY incident_id
            HAVING max(submitted_at) >= %(since)s AND max(submitted_at) < %(until)s
        ) r
        JOIN incidents_incident i ON i.id = r.incident_id LEFT JOIN incidents_service s ON s.id = i.service_id
    """,
    "p1-incident-count": rolling_rows_sql(
        """
        SELECT company_id, date_trunc('day', detected_at, 'UTC') AS day, count(*) FILTER (WHERE severity = 'P1') AS p1
        FROM incidents_incident WHERE detected_at >= %(since)s - interval '29 days' AND detected_at < %(until)s
        GROUP BY 1, 2
        """,
        "sum(p1)",
    ),
    "noise-reduction": """
        SELECT a.company_id, NULL::bigint, NULL::bigint, NULL::bigint, date_trunc('day', a.issued_at, 'UTC'),
               100 - 100.0 * count(DISTINCT a.incident_id) FILTER (WHERE i.correlation_key > '') / count(*)
        FROM incidents_alert a LEFT JOIN incidents_incident i ON i.id = a.incident_id
        WHERE a.issued_at >= %(since)s AND a.issued_at < %(until)s
        GROUP BY 1, 5
    """,
    "mttr-reduction": rolling_rows_sql(
        """
        SELECT company_id, date_trunc('day', resolved_at, 'UTC') AS day,
               count(*) FILTER (WHERE automation_used) AS automated, count(*) FILTER (WHERE NOT automation_used) AS manual,
               sum(extract(epoch FROM resolved_at - detected_at)::float8) FILTER (WHERE automation_used) AS automated_seconds,
               sum(extract(epoch FROM resolved_at - detected_at)::float8) FILTER (WHERE NOT automation_used) AS manual_seconds
        FROM incidents_incident WHERE resolved_at >= %(since)s - interval '29 days' AND resolved_at < %(until)s
        GROUP BY 1, 2
        """,
        "100 - 100 * (sum(automated_seconds) / NULLIF(sum(automated), 0)) / NULLIF(sum(manual_seconds) / NULLIF(sum(manual), 0), 0)",
    ),
    "self-healed": rolling_rows_sql(
        """
        SELECT company_id, date_trunc('day', resolved_at, 'UTC') AS day,
               count(*) FILTER (WHERE automation_used) AS automated, count(*) AS resolved
        FROM incidents_incident WHERE resolved_at >= %(since)s - interval '29 days' AND resolved_at < %(until)s
        GROUP BY 1, 2
        """,
        "100.0 * sum(automated) / sum(resolved)",
    ),
    "patch-compliance": """
        SELECT DISTINCT ON (company_id, date_trunc('day', scanned_at, 'UTC'))
               company_id, NULL::bigint, NULL::bigint, NULL::bigint, date_trunc('day', scanned_at, 'UTC'),
               100.0 * compliant_instances / NULLIF(total_instances, 0)
        FROM incidents_patchcompliancesnapshot
        WHERE scanned_at >= %(since)s AND scanned_at < %(until)s
        ORDER BY company_id, date_trunc('day', scanned_at, 'UTC'), scanned_at DESC
    """,
    # The DORA KPIs: over the 7 days ending with the day, but change failure rate (30 days).
    "deployment-frequency": f"""
        WITH reporting AS (
            SELECT company_id, min(created_at) AS first_reported FROM delivery_deployment WHERE production GROUP BY 1
        ),
        daily AS (
            SELECT company_id, date_trunc('day', finished_at, 'UTC') AS day, count(*) AS deployments
            FROM delivery_deployment
            WHERE production AND state = 'success' AND finished_at >= %(since)s - interval '6 days' AND finished_at < %(until)s
            GROUP BY 1, 2
        )
        SELECT reporting.company_id, NULL::bigint, NULL::bigint, NULL::bigint, days.day,
               COALESCE(sum(daily.deployments), 0) / 7.0
        FROM reporting
        CROSS JOIN {PERIOD_DAYS_SQL}
        LEFT JOIN daily
            ON daily.company_id = reporting.company_id AND daily.day > days.day - interval '7 days' AND daily.day <= days.day
        WHERE reporting.first_reported < days.day + interval '1 day'
        GROUP BY 1, 5
    """,
    # A change ships with its service's first successful production deployment created at or after its merge.
    "lead-time-for-changes": """
        WITH shipped AS (
            SELECT c.company_id, c.merged_at, deployment.finished_at AS shipped_at,
                   extract(epoch FROM deployment.finished_at - c.first_commit_at) / 3600 AS lead_time_hours
            FROM delivery_change c
            CROSS JOIN LATERAL (
                SELECT d.finished_at FROM delivery_deployment d
                WHERE d.service_id = c.service_id AND d.production AND d.state = 'success' AND d.created_at >= c.merged_at
                ORDER BY d.finished_at LIMIT 1
            ) deployment
            WHERE c.merged_at < %(until)s
              AND deployment.finished_at >= %(since)s - interval '6 days' AND deployment.finished_at < %(until)s
        )
        SELECT company_id, NULL::bigint, NULL::bigint, NULL::bigint, day,
               percentile_cont(0.5) WITHIN GROUP (ORDER BY lead_time_hours)
        FROM (
            SELECT company_id, merged_at, lead_time_hours, date_trunc('day', shipped_at, 'UTC') + ahead * interval '1 day' AS day
            FROM shipped CROSS JOIN generate_series(0, 6) AS ahead
        ) windows
        WHERE day >= %(since)s AND day < %(until)s AND merged_at < day + interval '1 day'
        GROUP BY 1, 5
    """,
    # A P1 or P2 incident is caused by its service's last successful production deployment finished at or before
    # its detection, when that was at most 24 hours earlier.
    "change-failure-rate": rolling_rows_sql(
        """
        WITH caused AS (
            SELECT DISTINCT deployment.id
            FROM incidents_incident i
            CROSS JOIN LATERAL (
                SELECT d.id, d.finished_at FROM delivery_deployment d
                WHERE d.service_id = i.service_id AND d.production AND d.state = 'success' AND d.finished_at <= i.detected_at
                ORDER BY d.finished_at DESC, d.id DESC LIMIT 1
            ) deployment
            WHERE i.severity IN ('P1', 'P2') AND i.detected_at >= %(since)s - interval '29 days'
              AND i.detected_at < %(until)s + interval '24 hours'
              AND i.detected_at <= deployment.finished_at + interval '24 hours'
        )
        SELECT company_id, date_trunc('day', finished_at, 'UTC') AS day, count(*) AS deployments,
               count(*) FILTER (WHERE id IN (SELECT id FROM caused)) AS failed
        FROM delivery_deployment
        WHERE production AND state = 'success' AND finished_at >= %(since)s - interval '29 days' AND finished_at < %(until)s
        GROUP BY 1, 2
        """,
        "100.0 * sum(failed) / sum(deployments)",
    ),
    "build-success-rate": rolling_rows_sql(
        """
        SELECT company_id, date_trunc('day', completed_at, 'UTC') AS day,
               count(*) FILTER (WHERE conclusion IN ('success', 'failure', 'timed_out', 'startup_failure')) AS judged,
               count(*) FILTER (WHERE conclusion = 'success') AS successful
        FROM delivery_buildrun WHERE completed_at >= %(since)s - interval '6 days' AND completed_at < %(until)s
        GROUP BY 1, 2
        """,
        "100.0 * sum(successful) / NULLIF(sum(judged), 0)",
        days=7,
    ),
    # The scanners' KPIs. A vulnerability counts once on each day whose 30 days hold its deadline or its fix.
    "vuln-sla-compliance": f"""
        WITH vulnerabilities AS (
            SELECT sc.company_id, v.id, v.fixed_at, v.first_seen_at + CASE v.severity
                WHEN 'critical' THEN interval '7 days' WHEN 'high' THEN interval '30 days'
                WHEN 'medium' THEN interval '90 days' WHEN 'low' THEN interval '180 days' END AS due_at
            FROM security_vulnerability v JOIN ({SERVICE_COMPANIES_SQL}) sc USING (service_id)
        ),
        counted AS (
            SELECT DISTINCT company_id, id, fixed_at <= due_at AS within_sla,
                   date_trunc('day', moment, 'UTC') + ahead * interval '1 day' AS day
            FROM vulnerabilities
            CROSS JOIN LATERAL (VALUES (due_at), (fixed_at)) AS moments (moment)
            CROSS JOIN generate_series(0, 29) AS ahead
            WHERE moment >= %(since)s - interval '29 days' AND moment < %(until)s
        )
        SELECT company_id, NULL::bigint, NULL::bigint, NULL::bigint, day, 100.0 * count(*) FILTER (WHERE within_sla) / count(*)
        FROM counted WHERE day >= %(since)s AND day < %(until)s
        GROUP BY 1, 5
    """,
    "critical-cve-age": f"""
        WITH scanned AS (
            SELECT sc.company_id, min(r.scanned_at) AS first_scanned
            FROM security_scanreport r JOIN ({SERVICE_COMPANIES_SQL}) sc USING (service_id)
            WHERE r.scanner IN ('trivy', 'snyk') GROUP BY 1
        ),
        critical AS (
            SELECT sc.company_id, v.first_seen_at, v.fixed_at
            FROM security_vulnerability v JOIN ({SERVICE_COMPANIES_SQL}) sc USING (service_id)
            WHERE v.severity = 'critical' AND v.first_seen_at < %(until)s AND (v.fixed_at IS NULL OR v.fixed_at > %(since)s)
        )
        SELECT scanned.company_id, NULL::bigint, NULL::bigint, NULL::bigint, days.day,
               COALESCE(extract(epoch FROM days.day + interval '1 day' - min(critical.first_seen_at)) / 86400, 0)
        FROM scanned
        CROSS JOIN {PERIOD_DAYS_SQL}
        LEFT JOIN critical ON critical.company_id = scanned.company_id AND critical.first_seen_at < days.day + interval '1 day'
            AND (critical.fixed_at IS NULL OR critical.fixed_at > days.day + interval '1 day')
        WHERE scanned.first_scanned < days.day + interval '1 day'
        GROUP BY 1, 5
    """,
    "secret-scan-violations": f"""
        WITH scanned AS (
            SELECT sc.company_id, min(r.scanned_at) AS first_scanned
            FROM security_scanreport r JOIN ({SERVICE_COMPANIES_SQL}) sc USING (service_id)
            WHERE r.scanner = 'gitleaks' GROUP BY 1
        ),
        secrets AS (
            SELECT sc.company_id, f.detected_at, f.resolved_at
            FROM security_secretfinding f JOIN ({SERVICE_COMPANIES_SQL}) sc USING (service_id)
            WHERE f.detected_at < %(until)s AND (f.resolved_at IS NULL OR f.resolved_at > %(since)s)
        )
        SELECT scanned.company_id, NULL::bigint, NULL::bigint, NULL::bigint, days.day, count(secrets.company_id)
        FROM scanned
        CROSS JOIN {PERIOD_DAYS_SQL}
        LEFT JOIN secrets ON secrets.company_id = scanned.company_id AND secrets.detected_at < days.day + interval '1 day'
            AND (secrets.resolved_at IS NULL OR secrets.resolved_at > days.day)
        WHERE scanned.first_scanned < days.day + interval '1 day'
        GROUP BY 1, 5
    """,
    # The finance KPIs: revenue of the day's billing month; cost of the 30 days ending with the day (and of the 30
    # before, per active user).
    "net-revenue-retention": f"""
        WITH months AS (SELECT DISTINCT {month_of_sql("days.day")} AS month FROM {PERIOD_DAYS_SQL}),
        cohorts AS (
            SELECT base.company_id, months.month, sum(r.recurring_revenue) FILTER (WHERE r.month = base.month) AS starting_mrr,
                   COALESCE(sum(r.expansion - r.contraction - r.churn) FILTER (WHERE r.month > base.month), 0) AS net_movements
            FROM months
            JOIN finance_revenuerecord base ON base.month = months.month - interval '12 months' AND base.recurring_revenue > 0
            JOIN finance_revenuerecord r
                ON r.company_id = base.company_id AND r.customer_id = base.customer_id
                AND r.month BETWEEN base.month AND months.month
            WHERE EXISTS (
                SELECT FROM finance_revenuerecord imported
                WHERE imported.company_id = base.company_id AND imported.month = months.month
            )
            GROUP BY 1, 2
        )
        SELECT cohorts.company_id, NULL::bigint, NULL::bigint, NULL::bigint, days.day,
               100.0 * (starting_mrr + net_movements) / NULLIF(starting_mrr, 0)
        FROM cohorts JOIN {PERIOD_DAYS_SQL} ON {month_of_sql("days.day")} = cohorts.month
    """,
    "arr-growth-rate": f"""
        WITH mrr AS (
            SELECT company_id, month, sum(recurring_revenue) AS mrr FROM finance_revenuerecord
            WHERE month >= {month_of_sql("%(since)s")} - interval '12 months' AND month < %(until)s
            GROUP BY 1, 2
        )
        SELECT now.company_id, NULL::bigint, NULL::bigint, NULL::bigint, days.day,
               100.0 * now.mrr / NULLIF(year_ago.mrr, 0) - 100
        FROM {PERIOD_DAYS_SQL}
        JOIN mrr now ON now.month = {month_of_sql("days.day")}
        JOIN mrr year_ago ON year_ago.company_id = now.company_id AND year_ago.month = now.month - interval '12 months'
    """,
    "gross-margin": f"""
        WITH revenue AS (
            SELECT company_id, month, sum(recurring_revenue) AS revenue FROM finance_revenuerecord
            WHERE month >= {month_of_sql("%(since)s")} AND month < %(until)s
            GROUP BY 1, 2
        ),
        cogs AS ({window_totals_sql(daily_cost_sql(29), "sum(cost) AS cogs")})
        SELECT cogs.company_id, NULL::bigint, NULL::bigint, NULL::bigint, cogs.day,
               100.0 * (revenue.revenue - cogs.cogs) / NULLIF(revenue.revenue, 0)
        FROM cogs JOIN revenue ON revenue.company_id = cogs.company_id AND revenue.month = {month_of_sql("cogs.day")}
    """,
    "infra-cost-per-active-unit": f"""
        WITH cost AS ({window_totals_sql(
            daily_cost_sql(59, products=("AmazonEC2", "AmazonEKS", "AmazonRDS", "AmazonElastiCache")),
            "sum(cost) FILTER (WHERE ahead < 30) AS cost_now, sum(cost) FILTER (WHERE ahead >= 30) AS cost_before",
            days=60,
        )}),
        mau AS ({users_in_windows_sql(30, "%(since)s - interval '30 days'")})
        SELECT cost.company_id, NULL::bigint, NULL::bigint, NULL::bigint, cost.day,
               100.0 * (cost.cost_now / now.users) / NULLIF(cost.cost_before / before.users, 0) - 100
        FROM cost
        JOIN mau now ON now.company_id = cost.company_id AND now.day = cost.day
        JOIN mau before ON before.company_id = cost.company_id AND before.day = cost.day - interval '30 days'
    """,
    # The product KPIs: the month (or week) ending with the day against the one ending 30 days earlier.
    "active-tenants": rolling_rows_sql(
        """
        SELECT company_id, day::timestamp AT TIME ZONE 'UTC' AS day, count(DISTINCT tenant_id) AS tenants
        FROM product_activeuser WHERE day >= %(since)s - interval '59 days' AND day < %(until)s
        GROUP BY company_id, product_activeuser.day
        """,
        """100.0 * (sum(tenants) FILTER (WHERE ahead < 30) / NULLIF(count(*) FILTER (WHERE ahead < 30), 0))
           / NULLIF(sum(tenants) FILTER (WHERE ahead >= 30) / NULLIF(count(*) FILTER (WHERE ahead >= 30), 0), 0) - 100""",
        days=60,
    ),
    "weekly-active-users": f"""
        WITH wau AS ({users_in_windows_sql(7, "%(since)s - interval '30 days'")})
        SELECT now.company_id, NULL::bigint, NULL::bigint, NULL::bigint, now.day, 100.0 * now.users / before.users - 100
        FROM wau now JOIN wau before ON before.company_id = now.company_id AND before.day = now.day - interval '30 days'
        WHERE now.day >= %(since)s AND now.day < %(until)s
    """,
    "feature-adoption-rate": rolling_rows_sql(
        """
        SELECT company_id, day::timestamp AT TIME ZONE 'UTC' AS day, sum(contexts) FILTER (WHERE enabled) AS enabled_contexts,
               sum(contexts) AS contexts
        FROM product_featureflagevaluation WHERE day >= %(since)s - interval '29 days' AND day < %(until)s
        GROUP BY company_id, product_featureflagevaluation.day
        """,
        "100.0 * COALESCE(sum(enabled_contexts), 0) / NULLIF(sum(contexts), 0)",
    ),
}


def peak_memory_mb():
    """The peak resident memory of this process so far (Linux reports kilobytes)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class Table:
    """The result rows, printed at the end as one table."""

    def __init__(self):
        self.rows = []
        self.misses = []

    def add(self, step, seconds, rows=None, floor=None, note=""):
        rate = f"{rows / seconds:,.0f}" if rows and seconds else ""
        floor_cells = (f"{floor:.2f}", f"{seconds / floor:.1f}x") if floor else ("", "")
        if floor and seconds / floor > TARGETS["floor_ratio"]:
            self.misses.append(f"{step}: {seconds / floor:.1f}x its SQL floor (target {TARGETS['floor_ratio']}x)")
        self.rows.append(
            (step, f"{seconds:.2f}", f"{rows:,}" if rows is not None else "", rate, f"{peak_memory_mb():.0f}", *floor_cells, note)
        )

    def print(self, out=sys.stdout):
        header = ("step", "seconds", "rows", "rows/s", "peak MB", "floor s", "ours/floor", "note")
        widths = [max(len(str(row[i])) for row in [header, *self.rows]) for i in range(len(header))]
        for row in [header, tuple("-" * width for width in widths), *self.rows]:
            out.write("  ".join(str(cell).ljust(width) for cell, width in zip(row, widths)).rstrip() + "\n")
        out.write("\nTargets missed:\n" if self.misses else "\nEvery target met.\n")
        for miss in self.misses:
            out.write(f"  - {miss}\n")


def timed(function, *args, **kwargs):
    start = time.perf_counter()
    result = function(*args, **kwargs)
    return time.perf_counter() - start, result


def _server_and_name(url):
    """Connection settings for the server's `postgres` database, and the benchmark database's name."""
    info = psycopg.conninfo.conninfo_to_dict(url)
    name = info.pop("dbname")
    if not name.startswith("companyos_bench"):
        raise SystemExit(f"--database-url: refusing to drop '{name}'; the benchmark database's name starts with companyos_bench.")
    return {**info, "dbname": "postgres"}, name


def recreate_database(url, *, template=None):
    """Drop and create the benchmark database named by `url`, empty or as a copy of the database `template`."""
    server_info, name = _server_and_name(url)
    with psycopg.connect(**server_info, autocommit=True) as server:
        server.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        server.execute(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))


def drop_database(url):
    server_info, name = _server_and_name(url)
    with psycopg.connect(**server_info, autocommit=True) as server:
        server.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def run_floor(sql, params, tables):
    """
    Time the floor statement `sql` in a transaction that is rolled back; return its seconds and the rows it
    produced (what it selects, or else the rows it wrote). Then vacuum `tables`, so our step after it meets
    no dead rows of the floor's.
    """
    from django.db import connection, transaction

    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        seconds, _ = timed(cursor.execute, sql, params)
        rows = cursor.fetchone()[0] if cursor.description else cursor.rowcount
        transaction.set_rollback(True)
    with connection.cursor() as cursor:
        cursor.execute(f"VACUUM {', '.join(tables)}")
    return seconds, rows


def floor_note(ours, floor, what="rows"):
    """A note when the floor did not produce what ours did."""
    return "" if ours == floor else f"the floor made {floor:,} {what}, ours {ours:,}"


def run_steps(scale, table, workers_url):
    """
    Seed, correlate, backfill, score and run one night in this process, timing each step. The seeded database is
    first copied to `workers_url`'s, where parallel_nightly_work does the same work on worker processes.
    """
    from django.core.management import call_command
    from django.db import connection

    from connectors.models import SourceEvent
    from incidents.demo import demo_period, seed_demo
    from incidents.models import Alert, Incident
    from incidents.services import correlate_alerts
    from kpis.calculators import CALCULATORS
    from kpis.choices import ObservationSource
    from kpis.models import KpiDefinition
    from kpis.observations import compute_observations
    from kpis.tasks.nightly import start_nightly_run
    from scoring.models import ScoreSnapshot
    from scoring.services import compute_snapshots

    size = SCALES[scale]
    call_command("migrate", "--no-input", verbosity=0)
    call_command("kpi", "load-catalogue", stdout=open(os.devnull, "w"))
    seconds, _ = timed(seed_demo, **size)
    table.add("seed", seconds, Alert.objects.count() + Incident.objects.count())
    # The connectors' history of the same companies and days, through their own paths as `make run` loads it:
    # what the DORA, security, finance and product calculators read.
    seconds, _ = timed(
        call_command, "seed_demo_sources", companies=size["companies"], days=size["days"], stdout=open(os.devnull, "w")
    )
    table.add(
        "seed connector data", seconds, SourceEvent.objects.count(), note="webhook deliveries, uploads, Prometheus responses"
    )
    # Statistics, hint bits and visibility maps for the fresh rows, so that neither the floors nor ours pay for them.
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    connection.close()  # a template database may have no other session
    recreate_database(workers_url, template=connection.settings_dict["NAME"])

    floor, floor_incidents = run_floor(CORRELATION_FLOOR_SQL, {}, ["incidents_incident", "incidents_alert"])
    seconds, created = timed(correlate_alerts)
    note = floor_note(created, floor_incidents, "incidents") or f"{created:,} incidents"
    table.add("correlate all alerts", seconds, size["alerts"], floor=floor, note=note)
    # Correlating everything at once adds hundreds of thousands of incidents in a minute; autovacuum would analyse
    # them soon after, and the nightly run, which adds a day's, always meets current statistics.
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE incidents_incident, incidents_alert")

    work_seconds = seconds
    start, end = demo_period(size["days"])
    since, until = start.date(), end.date()
    for slug in sorted(CALCULATORS):
        floor, floor_rows = None, None
        if slug in FLOOR_ROWS_SQL:
            params = {"kpi": KpiDefinition.objects.get(slug=slug).pk, "since": start, "until": end, "source": ObservationSource.BACKFILL.value, "run": "bench-floor"}
            floor, floor_rows = run_floor(FLOOR_UPSERT_SQL.format(rows=FLOOR_ROWS_SQL[slug]), params, ["kpis_observation"])
        seconds, result = timed(compute_observations, slug, since=since, until=until, source=ObservationSource.BACKFILL, run="bench")
        note = floor_note(result.written, floor_rows) if floor else "no floor statement"
        table.add(f"backfill {slug}", seconds, result.written, floor=floor, note=note)
        work_seconds += seconds

    day, last = since, until - datetime.timedelta(days=1)
    start = time.perf_counter()
    while day <= last:
        compute_snapshots(day)
        day += datetime.timedelta(days=1)
    seconds = time.perf_counter() - start
    table.add("snapshots, every scope and day", seconds, ScoreSnapshot.objects.count())
    work_seconds += seconds

    seconds, _ = timed(start_nightly_run.delay, last.isoformat())
    table.add("nightly chain, one day (eager)", seconds)
    work_seconds += seconds
    table.add("nightly work in one process", work_seconds, note="correlation + every backfill + snapshots + one night")


# --- The same nightly work on worker processes, in the chunks the nightly run hands its Celery workers ----------

NIGHTLY_WORKERS = 2


def _start_worker(database_url):
    os.environ.update(DATABASE_URL=database_url, DJANGO_SETTINGS_MODULE="companyos.settings.local", CELERY_BROKER_URL="")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django

    django.setup()


def _worker_ready(_):
    time.sleep(0.5)  # holds this worker, so that the next warm-up goes to another


def _correlate_company(company_id):
    from incidents.models import Company
    from incidents.services import correlate_alerts

    return correlate_alerts(company=Company.objects.get(pk=company_id))


def _analyze_correlated():
    # What autovacuum does after a load this size; the one-process run analyses here too.
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE incidents_incident, incidents_alert")


def _backfill_chunk(slug, start, end):
    from kpis.choices import ObservationSource
    from kpis.observations import compute_observations

    return compute_observations(slug, since=start, until=end, source=ObservationSource.BACKFILL, run="bench").written


def _day_snapshots(day):
    from scoring.services import compute_snapshots

    return len(compute_snapshots(day))


def _one_night(day_iso):
    from kpis.tasks.nightly import start_nightly_run

    start_nightly_run.delay(day_iso)


def parallel_nightly_work(scale, table, database_url, workers_url):
    """
    Correlation (a company per chunk), every backfill (a KPI's run of days per chunk), the snapshots (a day per
    chunk) and one night on NIGHTLY_WORKERS processes against the copy of the seeded database; then check that
    the copy holds the observations and snapshots the one-process run stored.
    """
    from incidents.demo import demo_period
    from incidents.models import Company
    from kpis.calculators import CALCULATORS, Period

    start, end = demo_period(SCALES[scale]["days"])
    days = [day.start.date() for day in Period(start, end).days()]
    chunks = [(slug, chunk.start, chunk.end) for slug in sorted(CALCULATORS) for chunk in CALCULATORS[slug].periods(Period(start, end))]
    company_ids = list(Company.objects.order_by("pk").values_list("pk", flat=True))
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(NIGHTLY_WORKERS, mp_context=context, initializer=_start_worker, initargs=(workers_url,)) as pool:
        list(pool.map(_worker_ready, range(NIGHTLY_WORKERS)))  # workers start before the clock, as Celery's do
        began = time.perf_counter()
        list(pool.map(_correlate_company, company_ids))
        pool.submit(_analyze_correlated).result()
        list(pool.map(_backfill_chunk, *zip(*chunks)))
        list(pool.map(_day_snapshots, days))
        pool.submit(_one_night, days[-1].isoformat()).result()
        seconds = time.perf_counter() - began
    ours, theirs = _stored_totals(database_url), _stored_totals(workers_url)
    note = "the same observations and snapshots as in one process" if ours == theirs else f"differs from one process: {theirs} vs {ours}"
    table.add(f"nightly work on {NIGHTLY_WORKERS} worker processes", seconds, note=note)
    if seconds > TARGETS["nightly_seconds"]:
        table.misses.append(f"the nightly work over the full data set took {seconds:.0f} s on {NIGHTLY_WORKERS} workers (target {TARGETS['nightly_seconds']} s)")
    drop_database(workers_url)


def _stored_totals(database_url):
    """Computed observations and snapshots of a database: counts and rounded sums, to compare two runs."""
    with psycopg.connect(database_url) as database:
        return database.execute(
            """
            SELECT (SELECT count(*) FROM kpis_observation WHERE source IN ('backfill', 'nightly')),
                   (SELECT round(sum(value)::numeric, 3) FROM kpis_observation WHERE source IN ('backfill', 'nightly')),
                   (SELECT count(*) FROM scoring_scoresnapshot),
                   (SELECT round(sum(composite)::numeric, 3) FROM scoring_scoresnapshot)
            """
        ).fetchone()


def api_steps(scale, table, database_url):
    """Latency of the read endpoints and the ingest rate, against gunicorn on the benchmark database."""
    from rest_framework.authtoken.models import Token

    from django.contrib.auth import get_user_model
    from incidents.models import Company
    from kpis.calculators import CALCULATORS
    from kpis.models import KpiDefinition

    user, _ = get_user_model().objects.get_or_create(username="bench", defaults={"is_superuser": True, "is_staff": True})
    token, _ = Token.objects.get_or_create(user=user)
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "companyos.settings.local",
        "DEBUG": "0",
        "DATABASE_URL": database_url,
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "CELERY_BROKER_URL": "",
    }
    # A free port, bound here and handed to gunicorn as a listening socket: two benches at once never share one.
    with socket.create_server(("127.0.0.1", 0)) as listener:
        base = f"http://127.0.0.1:{listener.getsockname()[1]}"
        server = subprocess.Popen(
            [
                str(Path(sys.executable).with_name("gunicorn")), "companyos.wsgi", "--workers", str(GUNICORN_WORKERS),
                "--bind", f"fd://{listener.fileno()}", "--log-level", "warning",
            ],
            cwd=PROJECT_DIR,
            env=env,
            pass_fds=[listener.fileno()],
        )
    session = requests.Session()
    session.headers["Authorization"] = f"Token {token.key}"
    try:
        # The socket already listens, so the first request waits for gunicorn to boot and accept it.
        try:
            session.get(f"{base}/api/kpis/", timeout=60).raise_for_status()
        except requests.RequestException as error:
            raise SystemExit(f"gunicorn did not answer within 60 s: {error}") from error
        company = Company.objects.order_by("slug").first()
        slug = KpiDefinition.objects.filter(observations__isnull=False).values_list("slug", flat=True).first()
        for path in (
            f"/api/scorecards/exec/?company={company.slug}",
            "/api/kpis/",
            f"/api/kpis/{slug}/observations/",
            f"/api/metrics/kpis/?company_id={company.slug}&timeRange=30d",
        ):
            latencies = []
            for _ in range(REQUESTS_PER_ENDPOINT):
                seconds, response = timed(session.get, base + path, timeout=30)
                response.raise_for_status()
                latencies.append(seconds * 1000)
            p50, p95, p99 = (statistics.quantiles(latencies, n=100)[index] for index in (49, 94, 98))
            note = f"p50 {p50:.1f} ms, p95 {p95:.1f} ms, p99 {p99:.1f} ms"
            if path.startswith("/api/scorecards/") and p95 > TARGETS["scorecard_p95_ms"]:
                table.misses.append(f"scorecard p95 {p95:.1f} ms (target {TARGETS['scorecard_p95_ms']} ms)")
            table.add(f"GET {path.split('?')[0]}", sum(latencies) / 1000, REQUESTS_PER_ENDPOINT, note=note)

        # A measured (not computed) KPI, at times no other observation uses; 50 is valid in every unit. The bodies
        # are encoded before the clock starts: the rate is the server's, not the sender's JSON encoder's.
        measured = KpiDefinition.objects.exclude(slug__in=CALCULATORS).order_by("slug").values_list("slug", flat=True).first()
        base_time = datetime.datetime(2000, 1, 1, tzinfo=datetime.timezone.utc)
        bodies = [
            json.dumps([
                {"kpi": measured, "company": company.slug, "observed_at": (base_time + datetime.timedelta(minutes=batch * INGEST_BATCH + n)).isoformat(), "value": 50.0}
                for n in range(INGEST_BATCH)
            ]).encode()
            for batch in range(INGEST_BATCHES[scale])
        ]

        def send(body):
            # A connection per batch (a Session is not shared across threads): ten connects cost nothing here.
            headers = {"Authorization": session.headers["Authorization"], "Content-Type": "application/json"}
            response = requests.post(f"{base}/api/observations/", data=body, headers=headers, timeout=300)
            if response.status_code != 201:
                raise SystemExit(f"POST /api/observations/ answered {response.status_code}: {response.text[:500]}")
            return response.json()["created"]

        # As many senders as gunicorn has workers, as several data sources would post at once.
        start = time.perf_counter()
        with ThreadPoolExecutor(max_workers=GUNICORN_WORKERS) as senders:
            ingested = sum(senders.map(send, bodies))
        seconds = time.perf_counter() - start
        if ingested / seconds < TARGETS["ingest_rows_per_second"]:
            table.misses.append(f"ingest {ingested / seconds:,.0f} observations/s (target {TARGETS['ingest_rows_per_second']:,})")
        table.add("POST /api/observations/", seconds, ingested, note=f"{len(bodies)} batches of {INGEST_BATCH:,}, {GUNICORN_WORKERS} senders")
    finally:
        server.terminate()
        server.wait(timeout=30)


def main(argv=None):
    parser = argparse.ArgumentParser(description="Benchmark the nightly work and the API on a large demo data set.")
    parser.add_argument("--scale", choices=sorted(SCALES), default="full")
    parser.add_argument(
        "--database-url",
        default=os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/companyos_bench"),
        help="The benchmark database; dropped and recreated (its name must start with companyos_bench).",
    )
    options = parser.parse_args(argv)
    recreate_database(options.database_url)
    os.environ["DATABASE_URL"] = options.database_url
    os.environ["DJANGO_SETTINGS_MODULE"] = "companyos.settings.local"
    os.environ["CELERY_BROKER_URL"] = ""  # the one-day nightly chain runs eagerly, in this process
    os.environ.setdefault("LOG_LEVEL", "WARNING")  # the table, not a line per eager task
    import django

    django.setup()
    table = Table()
    # The workers' copy: the benchmark database's URL with "_workers" after its name.
    address = urlsplit(options.database_url)
    workers_url = address._replace(path=f"{address.path}_workers").geturl()
    run_steps(options.scale, table, workers_url)
    parallel_nightly_work(options.scale, table, options.database_url, workers_url)
    api_steps(options.scale, table, options.database_url)
    print(f"CompanyOS bench, scale {options.scale}: {SCALES[options.scale]}\n")
    table.print()


if __name__ == "__main__":
    main()
