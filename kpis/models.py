"""The KPI registry: one definition per slug, every change recorded, and the observations it is measured by."""
import copy
import datetime

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from simple_history.models import HistoricalRecords

from connectors.choices import IntegrationKind

from .choices import (
    CADENCE_MONTHS,
    Dimension,
    Direction,
    ObservationSource,
    ProposalStatus,
    RetentionClass,
    ReviewCadence,
    ReviewOutcome,
    Status,
    Units,
    Visibility,
)
from .querysets import KpiChangeProposalQuerySet, KpiDefinitionQuerySet, ObservationQuerySet
from .slo import slo_errors
from .thresholds import schedule_date, threshold_errors_of
from .validators import BREACH_AFTER_RANGE, THRESHOLD_RANGE, WEIGHT_RANGE, WithinBounds, validate_kpi_slug

# The fields whose change to an active definition moves its score (or when it breaches, or who sees it, or
# where its values come from): such a change, and activating a definition, is a proposal that a second person
# approves. Every other field applies at once.
FIELDS_NEEDING_APPROVAL = (
    "formula", "units", "direction", "target", "critical_threshold", "targets", "breach_after",
    "dimension", "weight", "visibility", "status", "promql", "prometheus",
    "target_schedule", "slo_objective", "slo_period_days", "sli_good_promql", "sli_total_promql",
)
def next_review_after(day, cadence):
    if cadence == ReviewCadence.WEEKLY:
        return day + datetime.timedelta(days=7)
    return day + relativedelta(months=CADENCE_MONTHS[cadence])


class KpiDefinition(models.Model):
    """
    The one definition of a KPI, as the KPI source of truth lists it, plus what scoring and governance need.

    `target` and `critical_threshold` are the defaults; `targets` holds optional overrides by severity
    (P1-P4) or persona (exec, stakeholder, responder): {"P1": {"target": 120, "critical": 240}}.
    """

    slug = models.CharField(
        max_length=64,
        unique=True,
        validators=[validate_kpi_slug],
        help_text="Lowercase identifier used in the API and database; cannot change once created.",
    )
    name = models.CharField(max_length=200)
    description = models.TextField(help_text="What the KPI measures and why it matters.")
    formula = models.TextField(help_text="Human-readable formula; the implementation is the calculator of this slug.")
    units = models.CharField(max_length=16, choices=Units.choices)
    direction = models.CharField(max_length=8, choices=Direction.choices)
    target = models.FloatField(
        null=True,
        blank=True,
        validators=[WithinBounds("target", *THRESHOLD_RANGE)],
        help_text="The default target: at or beyond it the KPI scores 100. Empty: tracked, not scored.",
    )
    critical_threshold = models.FloatField(
        null=True,
        blank=True,
        validators=[WithinBounds("critical_threshold", *THRESHOLD_RANGE)],
        help_text="At or beyond it the KPI scores 0.",
    )
    targets = models.JSONField(
        default=dict,
        blank=True,
        help_text='Overrides by severity (P1-P4) or persona (exec, stakeholder, responder), each a "target" and an '
        'optional "critical" (default: the critical threshold), e.g. {"P1": {"target": 120, "critical": 240}}.',
    )
    target_schedule = models.JSONField(
        default=list,
        blank=True,
        help_text='Dated targets: from each date on, its target and critical threshold are in force, e.g. '
        '[{"from": "2027-04-01", "target": 97, "critical": 90}]. Before the first date the defaults apply.',
    )
    slo_objective = models.FloatField(
        null=True,
        blank=True,
        help_text="For an SLO: the share of good events it promises, in percent (e.g. 99.9).",
    )
    slo_period_days = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="For an SLO: the rolling period its objective and error budget cover, in days."
    )
    sli_good_promql = models.TextField(
        "SLI good events PromQL", blank=True, help_text="For an SLO: a counter of good events, without a range."
    )
    sli_total_promql = models.TextField(
        "SLI total events PromQL", blank=True, help_text="For an SLO: a counter of all events, without a range."
    )
    data_sources = models.TextField(blank=True, help_text="Which events or fields power it, one per line.")
    visibility = models.CharField(max_length=8, choices=Visibility.choices, default=Visibility.INTERNAL)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="owned_kpis",
        help_text="The person accountable for its accuracy.",
    )
    owner_role = models.CharField(max_length=100, help_text='The accountable role, e.g. "Ops Leader".')
    review_cadence = models.CharField(max_length=16, choices=ReviewCadence.choices, default=ReviewCadence.QUARTERLY)
    dimension = models.CharField(max_length=20, choices=Dimension.choices, default=Dimension.NONE)
    weight = models.FloatField(
        default=0,
        validators=[WithinBounds("weight", *WEIGHT_RANGE)],
        help_text="Weight within its dimension, 0-100 (renormalised over KPIs with data).",
    )
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.DRAFT)
    breach_after = models.DurationField(
        default=datetime.timedelta(0),
        validators=[WithinBounds("breach_after", *BREACH_AFTER_RANGE)],
        help_text="How long the value must stay beyond critical before a breach opens (0 to 90 days).",
    )
    retention_class = models.CharField(max_length=16, choices=RetentionClass.choices, default=RetentionClass.BUSINESS)
    promql = models.TextField(
        "PromQL",
        blank=True,
        help_text="An expression whose series are this KPI's values in Prometheus base units (a 0-1 ratio is stored "
        "x 100 for % units, seconds as the KPI's minutes, hours, days or months), scoped by their company, domain and "
        "service labels. Without a Prometheus it is not collected; the rules file still records it.",
    )
    prometheus = models.ForeignKey(
        "connectors.Integration",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        limit_choices_to={"kind": IntegrationKind.PROMETHEUS},
        related_name="kpi_definitions",
        help_text="The Prometheus the PromQL is evaluated on, hourly.",
    )
    last_reviewed_at = models.DateTimeField(null=True, blank=True, editable=False)
    next_review_due = models.DateField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    # Reviews are audited in KpiReview; keeping their dates out of history keeps diffs to real changes.
    history = HistoricalRecords(
        history_change_reason_field=models.TextField(null=True),
        excluded_fields=["last_reviewed_at", "next_review_due", "updated_at"],
    )

    objects = KpiDefinitionQuerySet.as_manager()

    class Meta:
        ordering = ["slug"]
        verbose_name = "KPI definition"
        constraints = [
            models.CheckConstraint(
                condition=Q(weight__gte=0),
                name="%(app_label)s_%(class)s_weight_not_negative",
                violation_error_message="A weight cannot be negative.",
            ),
        ]

    def __str__(self):
        return self.slug

    def clean(self):
        errors = {}
        if self.pk:
            stored_slug = type(self).objects.filter(pk=self.pk).values_list("slug", flat=True).first()
            if stored_slug is not None and stored_slug != self.slug:
                errors["slug"] = f"The slug '{stored_slug}' cannot change once created."
        errors.update(threshold_errors_of(self))
        if self.is_scored and (self.target is None or self.critical_threshold is None):
            errors["target"] = "A KPI with a dimension and a weight needs both a target and a critical threshold."
        errors.update(self._prometheus_errors())
        errors.update(slo_errors(self))
        if errors:
            raise ValidationError(errors)

    def _prometheus_errors(self):
        """A Prometheus needs an expression to evaluate; an expression alone is kept, not collected."""
        # Imported here: the registry's modules import this one.
        from .calculators import CALCULATORS

        if self.prometheus_id is None:
            return {}
        if not self.promql.strip():
            return {"promql": "A Prometheus data source needs the PromQL expression to evaluate on it."}
        if self.prometheus.kind != IntegrationKind.PROMETHEUS:
            return {"prometheus": f"'{self.prometheus}' is not a Prometheus integration."}
        if self.slug in CALCULATORS:
            return {
                "prometheus": f"'{self.slug}' is computed by its calculator; values from Prometheus would compete with it."
            }
        return {}

    def save(self, *args, **kwargs):
        if self.review_cadence:
            reviewed = self.last_reviewed_at or self.created_at or timezone.now()
            self.next_review_due = next_review_after(timezone.localdate(reviewed), self.review_cadence)
        super().save(*args, **kwargs)

    @property
    def is_scored(self):
        return self.dimension != Dimension.NONE and self.weight > 0

    def thresholds_on(self, day):
        """(target, critical) in force on `day`: the latest schedule entry dated on or before it, else the defaults."""
        target, critical = self.target, self.critical_threshold
        for entry in self.target_schedule or ():
            starts = schedule_date(entry.get("from"))
            if starts is None or starts > day:
                break
            target, critical = entry["target"], entry.get("critical", self.critical_threshold)
        return target, critical

    def in_force_on(self, day):
        """
        This definition with the default target and critical threshold of `day` (`thresholds_on`); severity and
        persona overrides are kept. An unsaved copy: scoring reads it, nothing saves it.
        """
        if not self.target_schedule:
            return self
        dated = copy.copy(self)
        dated.target, dated.critical_threshold = self.thresholds_on(day)
        return dated

    def thresholds_for(self, key=None):
        """(target, critical) for a severity or persona, falling back to the defaults."""
        override = self.targets.get(key) if key else None
        if override:
            return override["target"], override.get("critical", self.critical_threshold)
        return self.target, self.critical_threshold


class KpiReview(models.Model):
    """A periodic re-validation of a definition by a reviewer."""

    kpi = models.ForeignKey(KpiDefinition, on_delete=models.CASCADE, related_name="reviews")
    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="kpi_reviews")
    reviewed_at = models.DateTimeField(default=timezone.now)
    outcome = models.CharField(max_length=16, choices=ReviewOutcome.choices)
    notes = models.TextField(blank=True)

    class Meta:
        ordering = ["-reviewed_at"]
        verbose_name = "KPI review"

    def __str__(self):
        return f"{self.kpi.slug} reviewed {self.reviewed_at:%Y-%m-%d} ({self.outcome})"


class Observation(models.Model):
    """
    One measured value of a KPI, for an incident or a scope (company, domain or service) at a time.

    Append-only: only a backfill (or the nightly run, which is a backfill of one day) overwrites, by its
    key (kpi, incident, scope, observed_at). Provenance (source, run, computed_at) replaces history here.
    """

    # kpi, company and service are indexed by the composite indexes below, which lead with them: every index
    # is paid for by each of the millions of observations written.
    kpi = models.ForeignKey(KpiDefinition, on_delete=models.PROTECT, related_name="observations", db_index=False)
    company = models.ForeignKey("tenancy.Company", on_delete=models.CASCADE, related_name="observations", db_index=False)
    domain = models.ForeignKey("tenancy.Domain", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    service = models.ForeignKey(
        "tenancy.Service", null=True, blank=True, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    incident = models.ForeignKey(
        "incidents.Incident", null=True, blank=True, on_delete=models.CASCADE, related_name="observations"
    )
    observed_at = models.DateTimeField()
    value = models.FloatField()
    source = models.CharField(max_length=32, default=ObservationSource.API)
    confidence = models.FloatField(default=1.0, validators=[MinValueValidator(0), MaxValueValidator(1)])
    run = models.CharField(max_length=64, blank=True, help_text="The nightly run, backfill or request that wrote it.")
    computed_at = models.DateTimeField(default=timezone.now)

    objects = ObservationQuerySet.as_manager()

    class Meta:
        ordering = ["kpi", "observed_at"]
        constraints = [
            # Coalesce makes an empty incident or scope count as a value, as NULLS NOT DISTINCT would,
            # on PostgreSQL and SQLite alike.
            models.UniqueConstraint(
                F("kpi"),
                Coalesce("incident", Value(0)),
                F("company"),
                Coalesce("domain", Value(0)),
                Coalesce("service", Value(0)),
                F("observed_at"),
                name="kpis_observation_unique_key",
                violation_error_message="An observation with this KPI, incident, scope and time already exists.",
            ),
            models.CheckConstraint(
                condition=Q(confidence__gte=0, confidence__lte=1),
                name="%(app_label)s_%(class)s_confidence_0_to_1",
                violation_error_message="Confidence is between 0 and 1.",
            ),
        ]
        indexes = [
            models.Index(fields=["kpi", "observed_at"]),
            models.Index(fields=["company", "observed_at"]),
            # A service's values of a KPI over time: breach evidence, service scorecards.
            models.Index(fields=["service", "kpi", "observed_at"]),
        ]

    def __str__(self):
        return f"{self.kpi_id} {self.observed_at:%Y-%m-%d %H:%M} = {self.value}"


class PrometheusCollection(models.Model):
    """
    How the hourly collection of a definition's PromQL went last: kept beside the definition rather than on
    it, so the definition's history records changes, not every run. Each evaluation's response is its
    SourceEvent; `last_event` is the latest one, success or failure.
    """

    kpi = models.OneToOneField(KpiDefinition, on_delete=models.CASCADE, related_name="prometheus_collection")
    last_success_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    last_error_at = models.DateTimeField(null=True, blank=True)
    consecutive_failures = models.PositiveIntegerField(default=0)
    last_event = models.ForeignKey(
        "connectors.SourceEvent", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    def __str__(self):
        return f"Prometheus collection of {self.kpi.slug}"


class ReviewReminder(models.Model):
    """That an owner was e-mailed their overdue reviews on a day; at most one per owner and day."""

    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="kpi_review_reminders")
    sent_on = models.DateField()
    sent_at = models.DateTimeField(default=timezone.now)
    definitions = models.TextField(help_text="The slugs of the overdue definitions the reminder listed, one per line.")

    class Meta:
        ordering = ["-sent_on"]
        constraints = [
            models.UniqueConstraint(
                fields=["recipient", "sent_on"],
                name="%(app_label)s_%(class)s_one_per_recipient_and_day",
                violation_error_message="This owner was already reminded today.",
            ),
        ]

    def __str__(self):
        return f"{self.recipient} reminded on {self.sent_on:%Y-%m-%d}"


class ChangeProposal(models.Model):
    """
    What every change-control proposal records (a definition's, the dimension weights'): who proposed what and why,
    against which version, and once decided who decided, when, why and which version the approval wrote.
    `changes` is {field: {"old": value, "new": value}} in JSON.
    """

    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="%(class)ss")
    reason = models.TextField()
    changes = models.JSONField(encoder=DjangoJSONEncoder)
    base_history_id = models.PositiveBigIntegerField(help_text="The version the proposal was made against.")
    status = models.CharField(max_length=8, choices=ProposalStatus.choices, default=ProposalStatus.OPEN)
    created_at = models.DateTimeField(default=timezone.now)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="%(class)s_decisions"
    )
    decided_at = models.DateTimeField(null=True, blank=True, help_text="On approval, when the change came into force.")
    decision_comment = models.TextField(blank=True)
    applied_history_id = models.PositiveBigIntegerField(null=True, blank=True, help_text="The version the approval wrote.")

    class Meta:
        abstract = True
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status=ProposalStatus.OPEN, decided_at__isnull=True, decided_by__isnull=True)
                | (~Q(status=ProposalStatus.OPEN) & Q(decided_at__isnull=False, decided_by__isnull=False)),
                name="%(app_label)s_%(class)s_decided_when_closed",
                violation_error_message="An open proposal has no decision; an approved or rejected one has who and when.",
            ),
        ]


class KpiChangeProposal(ChangeProposal):
    """
    A change to an active definition's score-moving fields (FIELDS_NEEDING_APPROVAL): recorded, not in force.

    A KPI approver other than the author approves it, which applies `changes` as one history row of the
    definition (`applied_history_id`), or rejects it, which changes nothing. A superuser may approve their own
    proposal only with an `emergency_reason`, which auditors review. At most one proposal per definition is open.
    `changes` is {field: {"old": value, "new": value}} in JSON (a duration as ISO 8601).
    """

    kpi = models.ForeignKey(KpiDefinition, on_delete=models.PROTECT, related_name="proposals")
    emergency_reason = models.TextField(blank=True, help_text="Why a superuser approved their own proposal.")

    objects = KpiChangeProposalQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "KPI change proposal"
        constraints = [
            models.UniqueConstraint(
                fields=["kpi"],
                condition=Q(status=ProposalStatus.OPEN),
                name="%(app_label)s_%(class)s_one_open_per_kpi",
                violation_error_message="This definition already has an open proposal; approve or reject it first.",
            ),
            *ChangeProposal.Meta.constraints,
        ]

    def __str__(self):
        return f"Proposal #{self.pk} for {self.kpi.slug} ({self.get_status_display().lower()})"

    @property
    def is_emergency_self_approval(self):
        return self.status == ProposalStatus.APPROVED and bool(self.emergency_reason)


class DailyTotalsDay(models.Model):
    """A company's UTC day whose methodology totals are stored (rows or none: no activity), and when (kpis.daily_totals)."""

    company = models.ForeignKey("tenancy.Company", on_delete=models.CASCADE, related_name="+", db_index=False)
    day = models.DateField()
    refreshed_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["company", "day"], name="%(app_label)s_%(class)s_unique_company_day")]


class CompanyDayTotals(models.Model):
    """Totals of a company's UTC day that /api/metrics/kpis/ adds up over whole days (kpis.daily_totals)."""

    company = models.ForeignKey("tenancy.Company", on_delete=models.CASCADE, related_name="+", db_index=False)
    day = models.DateField()

    class Meta:
        abstract = True
        indexes = [models.Index(fields=["company", "day"])]


class AlertDayTotals(CompanyDayTotals):
    """The alerts a company was sent on a UTC day (by issued_at), and those still awaiting correlation."""

    raw_alerts = models.BigIntegerField()
    uncorrelated_alerts = models.BigIntegerField()


class IncidentsCreatedDayTotals(CompanyDayTotals):
    """
    Incidents correlation made with alerts on a UTC day, by their last earlier day with alerts (`previous_day`): whole
    days from S count an incident once, on its day whose previous_day is empty or before S.
    """

    previous_day = models.DateField(null=True)
    incidents = models.BigIntegerField()


class ResolvedDayTotals(CompanyDayTotals):
    """The incidents a company resolved on a UTC day, manually and by automation, and their resolution minutes."""

    manual_incidents = models.BigIntegerField()
    automated_incidents = models.BigIntegerField()
    total_incidents = models.BigIntegerField()
    manual_minutes = models.FloatField(null=True)
    automated_minutes = models.FloatField(null=True)


class RunbookRunDayTotals(CompanyDayTotals):
    """A runbook's runs for a company started on a UTC day: how many, how many succeeded and finished, their seconds."""

    runbook_id = models.CharField(max_length=200)
    executions = models.BigIntegerField()
    successful_executions = models.BigIntegerField()
    finished_executions = models.BigIntegerField()
    execution_seconds = models.FloatField(null=True)


class ResolvedSignatureDayTotals(CompanyDayTotals):
    """The runbook table's incidents resolved on a UTC day, by runbook, first alert's signature and automation."""

    runbook_id = models.CharField(max_length=200)
    signature = models.CharField(max_length=200, null=True)
    automated = models.BooleanField()
    incidents = models.BigIntegerField()
    minutes = models.FloatField(null=True)
