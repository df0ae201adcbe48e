"""
The Prometheus rules file built from the registry (`manage.py kpi recording-rules`).

Its groups, all `companyos:*` series as the health model names them, every one kept per `company` (and per
`service` where the series it reads have one), so a portal of several companies never mixes them and an alert
arrives naming its asset:
- KPI recording rules: a definition's PromQL (see catalogue.yaml), recorded under the health model's series
  name for that KPI, so an owner's change to the expression changes the rule too; plus the health model's own
  rules (HEALTH_MODEL_RULES: the series KPIs' PromQL reads, the cascade of reliability, engagement);
- score rules: the portal's own exported scores (`companyos_dimension_score`, see /metrics) recorded as
  `companyos:<dimension>:score:gauge`, and the composite weighted by the dimension weights in force;
- alert rules: a KPI's critical threshold and breach duration from its definition, so an owner's change
  to a threshold changes the alert too;
- one group per definition with an SLO: its error ratios, error budget left and burn-rate alerts (slo_rules).
"""
import re

from django.utils import timezone

from kpis.choices import Dimension, Direction, Units
from kpis.models import KpiDefinition

from .slo_rules import promql_duration, slo_rule_groups

# The health model's series that record a KPI's value, by the slug of the KPI whose PromQL they record.
KPI_SERIES = {
    "slo-attainment": "companyos:service:slo_attainment:ratio",
    "error-budget-burn-rate": "companyos:service:error_budget_burn_rate:ratio",
    "feature-adoption-rate": "companyos:product:feature_adoption:ratio",
    "gross-margin": "companyos:finops:gross_margin:ratio",
    "net-revenue-retention": "companyos:finops:nrr:ratio",
    "deployment-frequency": "companyos:dora:deployment_frequency:rate",
    "lead-time-for-changes": "companyos:dora:lead_time:seconds",
    "change-failure-rate": "companyos:dora:change_failure_rate:ratio",
    "mttr": "companyos:dora:mttr:seconds",
}

# The health model's rules that record no KPI's PromQL, in its order: what KPIs' PromQL reads (active tenants,
# monthly active users, cost per MAU, whose month-over-month change is a KPI), the cascade of reliability from
# services to domains to the company (`service_domain_mapping` is exported by /metrics), and engagement per cohort.
# Monthly active users: the seed's cost-per-MAU rule divides by it without defining it; a user is active in the
# month when a session event of theirs was counted in the 30 days.
HEALTH_MODEL_RULES = (
    (
        "companyos:product:active_tenants:count",
        'count by (company) (count by (company, tenant_id) (session_events_total{event="active"}))',
    ),
    (
        "companyos:product:monthly_active_users:count",
        "count by (company) (\n"
        '  count by (company, user_id) (increase(session_events_total{event="active"}[30d]) > 0)\n)',
    ),
    (
        "companyos:finops:cost_per_mau:usd",
        'sum by (company) (aws_cur_cost_usd{service=~"EC2|EKS|RDS|ElastiCache"})\n/\n'
        "companyos:product:monthly_active_users:count",
    ),
    (
        "companyos:domain:reliability_score:ratio",
        "avg by (company, domain) (\n  companyos:service:slo_attainment:ratio\n"
        "  * on (company, service) group_left (domain)\n"
        "  max by (company, domain, service) (service_domain_mapping)\n)",
    ),
    ("companyos:company:reliability_score:ratio", "avg by (company) (companyos:domain:reliability_score:ratio)"),
    (
        "companyos:product:engagement_score:gauge",
        "avg by (company, cohort) (\n"
        "  rate(user_actions_total[24h]) * avg_over_time(session_duration_seconds[24h])\n) / 1000",
    ),
)
# An aggregation in a KPI's PromQL that never names `company` mixes the companies of a shared Prometheus.
AGGREGATION = re.compile(r"\b(sum|avg|min|max|count|group|stddev|stdvar|topk|bottomk|quantile|histogram_quantile)\s*(\(|by|without)")


def mixes_companies(expr):
    """Whether `expr` aggregates without keeping the `company` label (a heuristic: it never names it)."""
    return bool(AGGREGATION.search(expr)) and "company" not in expr


# Series whose alert the health model defines, by KPI slug; recorded from the KPI's PromQL or, without one,
# from the KPI values the portal exports.
KPI_ALERTS = {
    "error-budget-burn-rate": ("SLOBudgetBurning", "companyos:service:error_budget_burn_rate:ratio", "warning"),
    "slo-attainment": ("SLOBudgetExhausted", "companyos:service:slo_attainment:ratio", "critical"),
    "critical-cve-age": ("CriticalVulnerabilityUnpatched", "companyos:security:critical_cve_age_days:gauge", "critical"),
    "abac-policy-coverage": ("ABACPolicyCoverageDropped", "companyos:security:abac_coverage:ratio", "warning"),
}

# Our score series as the health model names them (its composite rule reads these).
DIMENSION_SERIES = {
    Dimension.RELIABILITY: "companyos:reliability:score:gauge",
    Dimension.SECURITY: "companyos:security:score:gauge",
    Dimension.PRODUCT_ADOPTION: "companyos:product:score:gauge",
    Dimension.FINANCIALS: "companyos:financials:score:gauge",
    Dimension.EFFICIENCY: "companyos:efficiency:score:gauge",
}


def _in_series_units(kpi, value):
    """A ':ratio' series holds 0-1 where the registry holds percent."""
    return value / 100 if kpi.units in (Units.PERCENT, Units.PERCENT_CHANGE) else value


def _alert_rule(kpi, name, series, severity):
    operator = "<" if kpi.direction == Direction.HIGHER_IS_BETTER else ">"
    threshold = _in_series_units(kpi, kpi.critical_threshold) if series.endswith(":ratio") else kpi.critical_threshold
    return {
        "alert": name,
        "expr": f"{series} {operator} {threshold:g}",
        "for": promql_duration(kpi.breach_after),
        "labels": {"severity": severity, "dimension": kpi.dimension, "kpi": kpi.slug},
        "annotations": {
            "summary": f"{kpi.name} of {{{{ $labels.company }}}} {{{{ $labels.service }}}} beyond its critical threshold "
            f"({kpi.critical_threshold:g} {kpi.get_units_display()})"
        },
    }


def build_rules(dimension_weights):
    """The rules file as a dict ready for YAML. `dimension_weights` maps dimension -> weight in percent."""
    # Alerts use the thresholds in force today (a dated target schedule may have moved them).
    today = timezone.localdate()
    definitions = {kpi.slug: kpi.in_force_on(today) for kpi in KpiDefinition.objects.active()}
    kpi_rules = [
        {"record": record, "expr": definitions[slug].promql.strip(), "labels": {"kpi": slug}}
        for slug, record in KPI_SERIES.items()
        if slug in definitions and definitions[slug].promql.strip()
    ]
    kpi_rules += [{"record": record, "expr": expr} for record, expr in HEALTH_MODEL_RULES]
    recorded = {rule["record"] for rule in kpi_rules}
    # An alerted series no PromQL records is recorded from the KPI values the portal exports.
    exported_kpi_rules = [
        {"record": series, "expr": f'max by (company) (companyos_kpi_value{{slug="{slug}"}})'
         + (" / 100" if series.endswith(":ratio") and definitions[slug].units == Units.PERCENT else "")}
        for slug, (_, series, _) in KPI_ALERTS.items()
        if slug in definitions and series not in recorded
    ]
    score_rules = [
        {"record": series, "expr": f'max by (company) (companyos_dimension_score{{dimension="{dimension}"}})'}
        for dimension, series in DIMENSION_SERIES.items()
    ]
    composite = " +\n".join(
        f"({DIMENSION_SERIES[dimension]} * {dimension_weights[dimension] / 100:g})" for dimension in DIMENSION_SERIES
    )
    score_rules.append({"record": "companyos:health:composite_score:gauge", "expr": composite})
    alert_rules = [
        _alert_rule(definitions[slug], name, series, severity)
        for slug, (name, series, severity) in KPI_ALERTS.items()
        if slug in definitions and definitions[slug].critical_threshold is not None
    ]
    return {
        "groups": [
            {"name": "companyos.kpis", "rules": kpi_rules + exported_kpi_rules},
            {"name": "companyos.scores", "rules": score_rules},
            {"name": "companyos.alerts", "rules": alert_rules},
            *slo_rule_groups(),
        ]
    }
