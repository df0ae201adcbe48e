"""
The Prometheus rules file built from the registry (`manage.py kpi recording-rules`).

Three groups, all `companyos:*` series as the health model names them:
- KPI recording rules: a definition's PromQL (see catalogue.yaml), recorded under the health model's series
  name for that KPI, so an owner's change to the expression changes the rule too; plus the health model's
  rules for series a KPI's PromQL reads (active tenants, cost per MAU, whose month-over-month change is the KPI);
- score rules: the portal's own exported scores (`companyos_dimension_score`, see /metrics) recorded as
  `companyos:<dimension>:score:gauge`, and the composite weighted by the dimension weights in force;
- alert rules: a KPI's critical threshold and breach duration from its definition, so an owner's change
  to a threshold changes the alert too.
"""
from kpis.choices import Dimension, Direction, Units
from kpis.models import KpiDefinition

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

# The health model's rules for series that are not a KPI's value but what its PromQL reads, by that KPI's slug.
INPUT_RULES = {
    "active-tenants": (
        "companyos:product:active_tenants:count",
        'count(count by (tenant_id) (session_events_total{event="active"}))',
    ),
    "infra-cost-per-active-unit": (
        "companyos:finops:cost_per_mau:usd",
        'sum(aws_cur_cost_usd{service=~"EC2|EKS|RDS|ElastiCache"})\n/\n'
        "companyos:product:monthly_active_users:count",
    ),
}

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


def _duration(delta):
    seconds = int(delta.total_seconds())
    if seconds and seconds % 3600 == 0:
        return f"{seconds // 3600}h"
    return f"{max(seconds // 60, 1)}m" if seconds else "1m"


def _alert_rule(kpi, name, series, severity):
    operator = "<" if kpi.direction == Direction.HIGHER_IS_BETTER else ">"
    threshold = _in_series_units(kpi, kpi.critical_threshold) if series.endswith(":ratio") else kpi.critical_threshold
    return {
        "alert": name,
        "expr": f"{series} {operator} {threshold:g}",
        "for": _duration(kpi.breach_after),
        "labels": {"severity": severity, "dimension": kpi.dimension, "kpi": kpi.slug},
        "annotations": {"summary": f"{kpi.name} beyond its critical threshold ({kpi.critical_threshold:g} {kpi.get_units_display()})"},
    }


def build_rules(dimension_weights):
    """The rules file as a dict ready for YAML. `dimension_weights` maps dimension -> weight in percent."""
    definitions = {kpi.slug: kpi for kpi in KpiDefinition.objects.active()}
    kpi_rules = [
        {"record": record, "expr": definitions[slug].promql.strip(), "labels": {"kpi": slug}}
        for slug, record in KPI_SERIES.items()
        if slug in definitions and definitions[slug].promql.strip()
    ]
    kpi_rules += [{"record": record, "expr": expr} for slug, (record, expr) in INPUT_RULES.items() if slug in definitions]
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
        ]
    }
