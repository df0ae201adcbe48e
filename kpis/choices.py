from django.db import models


class Visibility(models.TextChoices):
    INTERNAL = "internal", "Internal"
    EXEC = "exec", "Exec"


class Direction(models.TextChoices):
    HIGHER_IS_BETTER = "higher", "Higher is better"
    LOWER_IS_BETTER = "lower", "Lower is better"


class Dimension(models.TextChoices):
    RELIABILITY = "reliability", "Reliability"
    SECURITY = "security", "Security"
    PRODUCT_ADOPTION = "product_adoption", "Product adoption"
    FINANCIALS = "financials", "Financials"
    EFFICIENCY = "efficiency", "Efficiency"
    NONE = "none", "None (not scored)"


class Status(models.TextChoices):
    DRAFT = "draft", "Draft"
    ACTIVE = "active", "Active"
    RETIRED = "retired", "Retired"


class ReviewCadence(models.TextChoices):
    WEEKLY = "weekly", "Weekly"
    MONTHLY = "monthly", "Monthly"
    QUARTERLY = "quarterly", "Quarterly"
    SEMIANNUAL = "semiannual", "Semiannual"
    ANNUAL = "annual", "Annual"


# How far each cadence moves the next review, in months (weekly is the exception, in days).
CADENCE_MONTHS = {
    ReviewCadence.MONTHLY: 1,
    ReviewCadence.QUARTERLY: 3,
    ReviewCadence.SEMIANNUAL: 6,
    ReviewCadence.ANNUAL: 12,
}


class Units(models.TextChoices):
    MINUTES = "minutes", "minutes"
    HOURS = "hours", "hours"
    DAYS = "days", "days"
    MONTHS = "months", "months"
    # A share of a whole, always 0-100 (observations outside are refused).
    PERCENT = "percent", "%"
    # Growth, change or retention, which may be negative or above 100 (NRR 110 %, ARR growth).
    PERCENT_CHANGE = "percent_change", "% (change)"
    COUNT = "count", "count"
    SCORE = "score", "score"
    RATIO = "ratio", "ratio (x)"
    PER_DAY = "per_day", "per day"
    PER_HOUR = "per_hour", "per hour"
    PER_MONTH = "per_month", "per month"
    USD = "usd", "USD"

    def bounds(self):
        """(lowest, highest) value an observation in these units may take; None where a side is open."""
        if self == Units.PERCENT:
            return 0.0, 100.0
        if self in (Units.PERCENT_CHANGE, Units.SCORE, Units.USD):
            return None, None
        return 0.0, None

    def refusal(self, value):
        """Why a `value` in these units cannot be observed, or None: the one rule every path of observations keeps."""
        low, high = self.bounds()
        if high is not None and not low <= value <= high:
            return f"{value} is outside {low:g}-{high:g}, the range of a {self.value} KPI"
        if low is not None and value < low:
            return f"{value} is negative, which {self.label} cannot be"
        return None

    def clamped(self, value):
        """`value` moved to the nearest value these units allow."""
        low, high = self.bounds()
        if low is not None:
            value = max(low, value)
        if high is not None:
            value = min(high, value)
        return value


class Persona(models.TextChoices):
    EXEC = "exec", "Executive"
    STAKEHOLDER = "stakeholder", "Stakeholder"
    RESPONDER = "responder", "Responder"


class RetentionClass(models.TextChoices):
    """The metric types of the health model's retention policy."""

    SERVICE = "service", "Service metrics (15 days raw, 2 years hourly)"
    BUSINESS = "business", "Business metrics (30 days raw, 5 years daily)"
    SECURITY = "security", "Security events (90 days raw, 7 years)"
    FINANCIAL = "financial", "Financial metrics (30 days raw, 7 years)"


class ReviewOutcome(models.TextChoices):
    CONFIRMED = "confirmed", "Confirmed unchanged"
    CHANGED = "changed", "Changed"


class ObservationSource(models.TextChoices):
    NIGHTLY = "nightly", "Nightly run"
    BACKFILL = "backfill", "Backfill"
    API = "api", "API ingestion"
    PROMETHEUS = "prometheus", "Prometheus query"
    DEMO = "demo", "Demo data"


class ProposalStatus(models.TextChoices):
    OPEN = "open", "Pending approval"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"
