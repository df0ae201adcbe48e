"""
Floors: our step's result computed and stored by one hand-written PostgreSQL statement, the way an ideal
implementation would, on the same data. Each runs just before our step (steps.run_floor), in a transaction that
is then rolled back, so both write into the same empty key range; its deferred foreign keys are checked at the
statement's end, as ours are at its commits.
"""

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

