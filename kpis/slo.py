"""
A definition's SLO: its objective (percent of good events), its rolling period in days, and the PromQL selectors
of the counters of good and of all events. Either all four are set or none; the rules file (scoring.slo_rules)
turns them into error-ratio series, burn-rate alerts and the error budget left.
"""
import math
import re

from .validators import SLO_OBJECTIVE_BOUNDS, SLO_PERIOD_DAYS_RANGE

SLO_FIELDS = ("slo_objective", "slo_period_days", "sli_good_promql", "sli_total_promql")
SLI_FIELDS = ("sli_good_promql", "sli_total_promql")

# A counter's instant selector: a metric name with optional label matchers, or the matchers alone. The rules
# file appends each window's range (`[5m]`) to it, so it may hold no range, function or operator of its own.
COUNTER_SELECTOR = re.compile(
    r"""^(?:[a-zA-Z_:][a-zA-Z0-9_:]*\s*(?:\{(?:[^{}"]|"(?:[^"\\]|\\.)*")*\})?|\{(?:[^{}"]|"(?:[^"\\]|\\.)*")+\})$"""
)
SELECTOR_EXAMPLE = 'http_requests_total{code!~"5.."}'


def slo_errors(definition):
    """{field: message} for each way the definition's SLO breaks its rules (see the module docstring); empty if none."""
    values = {name: getattr(definition, name) for name in SLO_FIELDS}
    values.update({name: (values[name] or "").strip() for name in SLI_FIELDS})
    given = [name for name, value in values.items() if value not in (None, "")]
    if not given:
        return {}
    missing = ", ".join(name for name in SLO_FIELDS if name not in given)
    errors = {
        name: f"An SLO needs its objective, period and good and total PromQL together (missing: {missing}); or none of them."
        for name in SLO_FIELDS
        if name not in given
    }
    objective = values["slo_objective"]
    low, high = SLO_OBJECTIVE_BOUNDS
    if objective is not None and (
        isinstance(objective, bool) or not isinstance(objective, (int, float)) or not math.isfinite(objective)
        or not low < objective < high
    ):
        errors["slo_objective"] = f"slo_objective must be a percentage strictly between {low:g} and {high:g}, e.g. 99.9."
    period = values["slo_period_days"]
    low, high = SLO_PERIOD_DAYS_RANGE
    if period is not None and not low <= period <= high:
        errors["slo_period_days"] = f"slo_period_days must be between {low} and {high} days."
    for name in SLI_FIELDS:
        if values[name] and not COUNTER_SELECTOR.match(values[name]):
            errors[name] = f"{name} must be a counter's selector without a range or function, e.g. {SELECTOR_EXAMPLE}."
    return errors

