"""Dimension weights, stored score snapshots, breaches and the rollups that outlive raw observations."""
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q, Value
from django.db.models.functions import Coalesce
from simple_history.models import HistoricalRecords

from kpis.choices import Dimension, ProposalStatus
from kpis.models import ChangeProposal

from .bands import HealthBand
from .choices import RollupBucket, ScopeLevel

SCORED_DIMENSIONS = [dimension for dimension in Dimension if dimension != Dimension.NONE]
WEIGHTS_TOTAL = Decimal(100)


def _weight_field():
    return models.DecimalField(
        max_digits=5, decimal_places=2, validators=[MinValueValidator(0), MaxValueValidator(100)]
    )


def scope_unique_constraint(*fields, name, message):
    """Unique per scope (company, domain, service) and `fields`; Coalesce makes an empty domain or service count
    as a value on PostgreSQL and SQLite alike, as on kpis.Observation."""
    return models.UniqueConstraint(
        F("company"),
        Coalesce("domain", Value(0)),
        Coalesce("service", Value(0)),
        *fields,
        name=name,
        violation_error_message=message,
    )


class DimensionWeights(models.Model):
    """
    The weights of the five dimensions in the composite score, in percent; they add up to 100.

    There is one row (id 1), changed only by an approved DimensionWeightsProposal (scoring.weights) so every
    change has a history row with who and why; scoring.versions.weights_in_force(moment) reads the weights in
    force then.
    """

    reliability = _weight_field()
    security = _weight_field()
    product_adoption = _weight_field()
    financials = _weight_field()
    efficiency = _weight_field()
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords(history_change_reason_field=models.TextField(null=True), excluded_fields=["updated_at"])

    class Meta:
        verbose_name = "dimension weights"
        verbose_name_plural = "dimension weights"
        constraints = [
            models.CheckConstraint(
                condition=Q(id=1),
                name="%(app_label)s_%(class)s_single_row",
                violation_error_message="There is one set of dimension weights; change it instead of adding another.",
            ),
        ]

    def __str__(self):
        return ", ".join(f"{dimension.label} {getattr(self, dimension.value)}" for dimension in SCORED_DIMENSIONS)

    def clean(self):
        values = [getattr(self, dimension.value) for dimension in SCORED_DIMENSIONS]
        if any(value is None for value in values):
            return  # the field errors already name the missing weight
        total = sum(values, Decimal(0))
        if total != WEIGHTS_TOTAL:
            raise ValidationError(f"The dimension weights must add up to 100; these add up to {total.normalize():f}.")

    def as_dict(self):
        """{dimension: weight} as floats, for the calculators."""
        return {dimension.value: float(getattr(self, dimension.value)) for dimension in SCORED_DIMENSIONS}


class DimensionWeightsProposal(ChangeProposal):
    """
    A change to the dimension weights, recorded and not in force until a KPI approver other than its author
    approves it; approval applies `changes` as one history row of the weights (`applied_history_id`), rejection
    changes nothing. At most one proposal is open. `changes` is {dimension: {"old": "25.00", "new": "30.00"}}.
    """

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "dimension weights proposal"
        constraints = [
            models.UniqueConstraint(
                fields=["status"],
                condition=Q(status=ProposalStatus.OPEN),
                name="%(app_label)s_%(class)s_one_open",
                violation_error_message="A weights proposal is open already; approve or reject it first.",
            ),
            *ChangeProposal.Meta.constraints,
        ]

    def __str__(self):
        return f"Weights proposal #{self.pk} ({self.get_status_display().lower()})"

    def ordered_changes(self):
        """[(dimension, {"old", "new"})] in the dimensions' order (a JSON column keeps no key order)."""
        names = [dimension.value for dimension in SCORED_DIMENSIONS]
        return [(name, self.changes[name]) for name in names if name in self.changes]


class ScoreSnapshot(models.Model):
    """
    The scores of one scope (a service, a domain or a whole company) on one day, with everything needed to
    reproduce them: per-KPI values and scores, per-dimension scores with coverage, and the exact inputs
    (observation ids per KPI, the definition history id of each KPI, the weights history id).

    One per scope and day; recomputing a day replaces that day's snapshots, unless retention pruned raw
    observations of the day (scoring.snapshot_history): then the stored ones stay.
    """

    company = models.ForeignKey("tenancy.Company", on_delete=models.CASCADE, related_name="score_snapshots")
    domain = models.ForeignKey("tenancy.Domain", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    service = models.ForeignKey("tenancy.Service", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    level = models.CharField(max_length=8, choices=ScopeLevel.choices)
    day = models.DateField()
    composite = models.FloatField(null=True, blank=True, help_text="Empty when no dimension had data.")
    band = models.CharField(max_length=10, choices=HealthBand.choices, blank=True)
    dimensions = models.JSONField(
        default=dict, help_text="Per dimension: score, weight, counted and missing KPI slugs."
    )
    coverage = models.JSONField(default=dict, help_text="Dimensions counted in the composite and those missing.")
    kpis = models.JSONField(
        default=dict, help_text="Per KPI: value, target, critical, score (empty when tracked only), observations."
    )
    inputs = models.JSONField(
        default=dict, help_text="Observation ids per KPI, definition history id per KPI, weights history id."
    )
    computed_at = models.DateTimeField()

    class Meta:
        ordering = ["-day", "company", "level", "domain", "service"]
        constraints = [
            scope_unique_constraint(
                F("day"),
                name="scoring_scoresnapshot_unique_scope_day",
                message="A snapshot for this scope and day already exists.",
            ),
        ]
        indexes = [models.Index(fields=["company", "day"]), models.Index(fields=["day", "level"])]

    def __str__(self):
        return f"{self.scope_label} {self.day}: {self.composite if self.composite is None else round(self.composite, 1)}"

    @property
    def scope_label(self):
        return str(self.service or self.domain or self.company)


class Breach(models.Model):
    """
    A period in which a KPI's value stayed beyond its critical threshold, in one scope, for at least the KPI's
    `breach_after`. Opens at started_at + breach_after, closes at the first observation back within the
    threshold. While open, each evaluation raises the worst value and moves the current one. The owner (else
    the owner role's group, else BREACH_NOTIFY_EMAIL) is e-mailed once (notified_at).
    """

    kpi = models.ForeignKey("kpis.KpiDefinition", on_delete=models.CASCADE, related_name="breaches")
    company = models.ForeignKey("tenancy.Company", on_delete=models.CASCADE, related_name="breaches")
    domain = models.ForeignKey("tenancy.Domain", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    service = models.ForeignKey("tenancy.Service", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    started_at = models.DateTimeField(help_text="The first observation beyond the critical threshold.")
    opened_at = models.DateTimeField(help_text="When the value had stayed beyond critical for the KPI's breach_after.")
    closed_at = models.DateTimeField(null=True, blank=True, help_text="The first observation back within the threshold.")
    critical_threshold = models.FloatField(help_text="The threshold in force when it opened.")
    worst_value = models.FloatField(help_text="The worst value observed while it was open.")
    current_value = models.FloatField(
        null=True, blank=True, help_text="The latest value while open; once closed, the value that closed it."
    )
    current_at = models.DateTimeField(null=True, blank=True, help_text="When the current value was observed.")
    # No foreign key in the database: on PostgreSQL observations are partitioned by month, so their primary key
    # is (id, observed_at). Retention never drops an observation that is a breach's evidence.
    observations = models.ManyToManyField(
        "kpis.Observation",
        related_name="breaches",
        db_constraint=False,
        help_text="The observations beyond critical while it was open.",
    )
    notified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-opened_at"]
        verbose_name_plural = "breaches"
        constraints = [
            scope_unique_constraint(
                F("kpi"),
                F("started_at"),
                name="scoring_breach_unique_start",
                message="A breach of this KPI in this scope starting then already exists.",
            ),
        ]
        indexes = [models.Index(fields=["company", "opened_at"])]

    def __str__(self):
        state = "open" if self.closed_at is None else f"closed {self.closed_at:%Y-%m-%d %H:%M}"
        return f"{self.kpi.slug} {self.service or self.domain or self.company} since {self.opened_at:%Y-%m-%d %H:%M} ({state})"


class ObservationRollup(models.Model):
    """
    count/sum/min/max of a KPI's observations in one scope and one hour or day, kept after the raw observations
    are pruned (retention). `scope_key` is "company:domain:service" (0 for none) so the upsert can name plain
    columns as its conflict target on PostgreSQL and SQLite.
    """

    kpi = models.ForeignKey("kpis.KpiDefinition", on_delete=models.CASCADE, related_name="rollups")
    company = models.ForeignKey("tenancy.Company", on_delete=models.CASCADE, related_name="+")
    domain = models.ForeignKey("tenancy.Domain", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    service = models.ForeignKey("tenancy.Service", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    scope_key = models.CharField(max_length=64)
    bucket = models.CharField(max_length=4, choices=RollupBucket.choices)
    bucket_start = models.DateTimeField()
    count = models.PositiveIntegerField()
    sum = models.FloatField()
    min = models.FloatField()
    max = models.FloatField()

    class Meta:
        ordering = ["kpi", "bucket_start"]
        constraints = [
            models.UniqueConstraint(
                fields=["kpi", "scope_key", "bucket", "bucket_start"],
                name="%(app_label)s_%(class)s_unique_bucket",
                violation_error_message="This KPI already has a rollup for this scope and bucket.",
            ),
        ]
        indexes = [models.Index(fields=["company", "bucket_start"])]

    def __str__(self):
        return f"{self.kpi_id} {self.scope_key} {self.bucket} {self.bucket_start:%Y-%m-%d %H:%M}: n={self.count}"

    @property
    def mean(self):
        return self.sum / self.count
