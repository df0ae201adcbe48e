import datetime
import math

from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.utils.deconstruct import deconstructible

validate_kpi_slug = RegexValidator(
    regex=r"^[a-z0-9]+(?:-[a-z0-9]+)*$",
    message="A slug is lowercase letters, digits and single hyphens, e.g. 'cadence-adherence'.",
    code="invalid_slug",
)

# The bounds of a definition's numbers, checked wherever one is written or proposed (model validation).
# A weight is a share within its dimension's 100.
WEIGHT_RANGE = (0.0, 100.0)
# Scoring subtracts and divides thresholds: a trillion either way is beyond any KPI (amounts in USD included)
# and far from where a float overflows to infinity (about 1.8e308).
THRESHOLD_LIMIT = 1e12
THRESHOLD_RANGE = (-THRESHOLD_LIMIT, THRESHOLD_LIMIT)
# breach_after: 0 opens a breach at the first value beyond critical; a quarter is the longest wait that still
# lets a breach open within the retention of the raw values (90 days for security events).
BREACH_AFTER_RANGE = (datetime.timedelta(0), datetime.timedelta(days=90))


def _shown(value):
    if isinstance(value, datetime.timedelta):
        return f"{value.total_seconds() / 86400:g} days"
    return f"{value:g}"


@deconstructible
class WithinBounds:
    """`name` is a finite number (or a duration) within [low, high]; the message names the field and its bounds."""

    def __init__(self, name, low, high):
        self.name, self.low, self.high = name, low, high

    def __call__(self, value):
        finite = not isinstance(value, float) or math.isfinite(value)
        if not finite or not self.low <= value <= self.high:
            raise ValidationError(
                f"{self.name} must be between {_shown(self.low)} and {_shown(self.high)}.",
                code="out_of_range",
            )

    def __eq__(self, other):
        return isinstance(other, WithinBounds) and (self.name, self.low, self.high) == (other.name, other.low, other.high)

# An SLO's objective is a percentage strictly between 0 and 100: at 100 there is no error budget to burn, at 0
# nothing to promise. Its period runs from a day to a year (the burn-rate windows scale with it, scoring.slo_rules).
SLO_OBJECTIVE_BOUNDS = (0.0, 100.0)
SLO_PERIOD_DAYS_RANGE = (1, 365)
