"""
The scoring formulas, written once: a KPI value becomes a 0-100 score, KPI scores become a dimension score,
dimension scores become the composite.

The one normalisation rule (`kpi_score`): at or beyond the target scores 100, at or beyond the critical
threshold scores 0, linear in between, clamped to 0-100; "beyond" follows the KPI's direction. The security
KPIs of the seed's Security Scoring Formula are the exception: their score is that formula's term and their
weight the formula's (`SCORE_FORMULAS`).
"""
from dataclasses import dataclass
from typing import Callable

from incidents.choices import Severity
from kpis.choices import Direction


def _clamp(score):
    return max(0.0, min(100.0, float(score)))


def kpi_score(value, target, critical, direction):
    """Normalise `value` to 0-100 from its target, critical threshold and direction (see the module docstring)."""
    if direction == Direction.HIGHER_IS_BETTER:
        if value >= target:
            return 100.0
        if value <= critical:
            return 0.0
        return _clamp(100.0 * (value - critical) / (target - critical))
    if direction == Direction.LOWER_IS_BETTER:
        if value <= target:
            return 100.0
        if value >= critical:
            return 0.0
        return _clamp(100.0 * (critical - value) / (critical - target))
    raise ValueError(f"Unknown direction '{direction}'; use '{Direction.HIGHER_IS_BETTER}' or '{Direction.LOWER_IS_BETTER}'.")


@dataclass(frozen=True)
class FormulaTerm:
    """
    One term of a seed scoring formula: the KPI's weight in its dimension, how its value becomes 0-100, and the
    term as the seed writes it: its variable and its expression with "{}" standing for the variable.
    """

    weight: float
    score: Callable[[float], float]
    variable: str
    expression: str = "{}"

    def shown(self, value):
        """
        The term, with `value` in it, and what it gives, e.g.
        "100 - min(critical_cve_age_days × 10, 100) = 100 - min(2 × 10, 100) = 80" or "vuln_sla_compliance_pct = 96".
        """
        steps = [self.expression.format(self.variable), self.expression.format(f"{value:.4g}"), f"{self.score(value):.4g}"]
        return " = ".join(step for index, step in enumerate(steps) if not index or step != steps[index - 1])


# The seed's Security Scoring Formula:
#   (100 - min(critical_cve_age_days * 10, 100)) * 0.30 + vuln_sla_compliance_pct * 0.25
#   + abac_coverage_pct * 0.20 + (100 - min(secret_violations * 50, 100)) * 0.15 + compliance_control_pct * 0.10
SCORE_FORMULAS = {
    "critical-cve-age": FormulaTerm(
        30, lambda days: _clamp(100 - min(days * 10, 100)), "critical_cve_age_days", "100 - min({} × 10, 100)"
    ),
    "vuln-sla-compliance": FormulaTerm(25, _clamp, "vuln_sla_compliance_pct"),
    "abac-policy-coverage": FormulaTerm(20, _clamp, "abac_coverage_pct"),
    "secret-scan-violations": FormulaTerm(
        15, lambda violations: _clamp(100 - min(violations * 50, 100)), "secret_violations", "100 - min({} × 50, 100)"
    ),
    "compliance-score": FormulaTerm(10, _clamp, "compliance_control_pct"),
}


def kpi_weight(definition):
    """The weight of a scored KPI within its dimension: the seed formula's where it has one, else the definition's."""
    formula = SCORE_FORMULAS.get(definition.slug)
    return float(formula.weight if formula else definition.weight)


def is_scored(definition):
    """Scored KPIs have a dimension, a positive weight and both thresholds; the rest are tracked only."""
    if definition.slug in SCORE_FORMULAS:
        return definition.is_scored
    return definition.is_scored and definition.target is not None and definition.critical_threshold is not None


def has_severity_targets(definition):
    return any(key in Severity.values for key in definition.targets)


def value_and_score(definition, groups, persona=None):
    """
    The KPI's value (mean of all its observations) and its 0-100 score, from `groups` of observations.

    `groups` is an iterable of (severity or None, count, sum of values). A KPI with per-severity targets is
    scored per severity group (each group's mean against that severity's thresholds) and the group scores are
    averaged weighted by observation count; a `persona` with its own override scores the mean against that
    persona's thresholds instead. Returns (value, None) for a tracked-only KPI.
    """
    groups = [group for group in groups if group[1]]
    count = sum(group[1] for group in groups)
    value = sum(group[2] for group in groups) / count
    if not is_scored(definition):
        return value, None
    formula = SCORE_FORMULAS.get(definition.slug)
    if formula:
        return value, formula.score(value)
    if persona and persona in definition.targets:
        return value, kpi_score(value, *definition.thresholds_for(persona), definition.direction)
    if not has_severity_targets(definition):
        return value, kpi_score(value, definition.target, definition.critical_threshold, definition.direction)
    weighted = sum(
        group_count * kpi_score(total / group_count, *definition.thresholds_for(severity), definition.direction)
        for severity, group_count, total in groups
    )
    return value, weighted / count


def weighted_mean(scores, weights):
    """
    The weighted mean of the `scores` present (a dict of key -> score or None), weights renormalised over them.

    Returns (score or None, counted keys, missing keys): a missing score is left out, never counted as 0 or 100.
    """
    counted = sorted(key for key in weights if scores.get(key) is not None and weights[key] > 0)
    missing = sorted(key for key in weights if key not in counted)
    total_weight = sum(weights[key] for key in counted)
    if not total_weight:
        return None, counted, missing
    return sum(scores[key] * weights[key] for key in counted) / total_weight, counted, missing
