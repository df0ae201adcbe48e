"""The incident data that KPIs are computed from: tenants, their services, incidents and alerts."""
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import F, Q
from simple_history.models import HistoricalRecords

from tenancy.models import Company, Service

from .choices import AlertSeverity, IncidentStatus, Phase, Severity


# The alert fields an aggregation key may join, in the order they are offered.
AGGREGATION_KEY_FIELDS = ("asset", "signature", "severity", "source", "service")


def validate_aggregation_key(value):
    """Refuse an aggregation key that is empty, repeats a field or names something that is not an alert field."""
    parts = value.split("|")
    unknown = [part for part in parts if part not in AGGREGATION_KEY_FIELDS]
    if unknown:
        raise ValidationError(
            f"Unknown alert field '{unknown[0]}' in the aggregation key; use {', '.join(AGGREGATION_KEY_FIELDS)} joined by '|'.",
            code="unknown_key_field",
        )
    if len(set(parts)) != len(parts):
        raise ValidationError("An aggregation key names each alert field at most once.", code="repeated_key_field")


class CorrelationConfig(models.Model):
    """How a company's raw alerts are grouped into incidents. Change-controlled like KPI definitions."""

    company = models.OneToOneField(Company, on_delete=models.CASCADE, related_name="correlation_config")
    aggregation_key = models.CharField(
        max_length=200,
        default="asset|signature",
        validators=[validate_aggregation_key],
        help_text="Alert fields joined by '|' that make alerts the same problem: asset, signature, severity, source, service.",
    )
    time_window_minutes = models.PositiveIntegerField(
        default=15,
        validators=[MinValueValidator(1)],
        help_text=(
            "A session window: an alert joins the incident of the previous alert with the same key when it was issued "
            "at most this many minutes after it; a longer gap starts a new incident."
        ),
    )
    auto_correlate = models.BooleanField(
        default=True,
        help_text="Alerts are correlated as they arrive (and by the nightly check); off: only when asked for this company.",
    )
    history = HistoricalRecords(history_change_reason_field=models.TextField(null=True))

    def __str__(self):
        return f"{self.company}: {self.aggregation_key} within {self.time_window_minutes} min"


class CurrentIncidentManager(models.Manager):
    """Incidents that stand on their own: those merged into another are left out of lists and KPIs by default."""

    def get_queryset(self):
        return super().get_queryset().filter(merged_into__isnull=True)


class Incident(models.Model):
    # Indexed by the (company, detected_at) index, which leads with it.
    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="incidents", db_index=False)
    # Indexed by the (service, detected_at) index, which leads with it.
    service = models.ForeignKey(
        Service, null=True, blank=True, on_delete=models.SET_NULL, related_name="incidents", db_index=False
    )
    external_id = models.CharField(
        max_length=200, help_text="The id in the source system; correlated incidents get 'alert-<first alert id>'."
    )
    title = models.CharField(max_length=500)
    severity = models.CharField(max_length=2, choices=Severity.choices)
    status = models.CharField(max_length=16, choices=IncidentStatus.choices, default=IncidentStatus.OPEN)
    detected_at = models.DateTimeField()
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    automation_used = models.BooleanField(default=False, help_text="Resolved by a runbook without human action.")
    runbook_id = models.CharField(max_length=200, blank=True)
    correlation_key = models.CharField(max_length=500, blank=True, help_text="Set when created by alert correlation.")
    source_event = models.ForeignKey(
        "connectors.SourceEvent",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="incidents",
        help_text="The received payload (a PagerDuty webhook) its title, severity and service were last taken from.",
    )
    merged_into = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="merged",
        help_text="Set when correlation found it to be part of this earlier incident; its alerts moved there.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    # The first manager is the default one (lists, related managers, the admin); all_objects sees merged ones too.
    objects = CurrentIncidentManager()
    all_objects = models.Manager()

    class Meta:
        ordering = ["-detected_at"]
        constraints = [
            models.UniqueConstraint(fields=["company", "external_id"], name="%(app_label)s_%(class)s_unique_external_id"),
            models.CheckConstraint(
                condition=Q(resolved_at__isnull=True) | Q(resolved_at__gte=F("detected_at")),
                name="%(app_label)s_%(class)s_resolved_after_detected",
                violation_error_message="An incident cannot be resolved before it was detected.",
            ),
        ]
        indexes = [
            models.Index(fields=["company", "detected_at"]),
            models.Index(fields=["company", "resolved_at"]),
            # Change failure rate: the incidents of a service in the 24 hours after each of its deployments.
            models.Index(fields=["service", "detected_at"]),
        ]

    def __str__(self):
        return f"{self.company.slug} {self.external_id}: {self.title}"


class PhaseTransition(models.Model):
    """The time an incident entered a phase of the major-incident timeline."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="phases")
    phase = models.CharField(max_length=16, choices=Phase.choices)
    entered_at = models.DateTimeField()

    class Meta:
        ordering = ["incident", "entered_at"]
        constraints = [
            models.UniqueConstraint(fields=["incident", "phase"], name="%(app_label)s_%(class)s_unique_phase"),
        ]

    def __str__(self):
        return f"{self.incident.external_id} {self.phase} at {self.entered_at:%Y-%m-%d %H:%M}"


class Milestone(models.Model):
    """A committed stakeholder update; on time when delivered at or before its ETA."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="milestones")
    name = models.CharField(max_length=200)
    committed_eta = models.DateTimeField()
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["incident", "committed_eta"]
        constraints = [
            models.UniqueConstraint(fields=["incident", "name"], name="%(app_label)s_%(class)s_unique_name"),
        ]

    def __str__(self):
        return f"{self.incident.external_id} {self.name}"


class SurveyResponse(models.Model):
    """A stakeholder's post-incident rating, 1 (poor) to 5 (excellent)."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="survey_responses")
    respondent = models.CharField(max_length=200)
    score = models.PositiveSmallIntegerField()
    submitted_at = models.DateTimeField()

    class Meta:
        ordering = ["incident", "submitted_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(score__gte=1, score__lte=5),
                name="%(app_label)s_%(class)s_score_1_to_5",
                violation_error_message="A survey score is between 1 and 5.",
            ),
            models.UniqueConstraint(fields=["incident", "respondent"], name="%(app_label)s_%(class)s_unique_respondent"),
        ]

    def __str__(self):
        return f"{self.incident.external_id} {self.respondent}: {self.score}"


class RunbookExecution(models.Model):
    """One run of an automation runbook (e.g. an SSM Automation document execution)."""

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="runbook_executions")
    incident = models.ForeignKey(
        Incident, null=True, blank=True, on_delete=models.SET_NULL, related_name="runbook_executions"
    )
    runbook_id = models.CharField(max_length=200, help_text="e.g. SSM-DiskCleanup-001")
    execution_id = models.CharField(max_length=200, help_text="The runbook tool's id of the run, unique within the company.")
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    success = models.BooleanField(default=False)

    class Meta:
        ordering = ["-started_at"]
        indexes = [models.Index(fields=["company", "started_at"])]
        # Per company: two client companies of an MSP may run tools that number their runs alike.
        constraints = [
            models.UniqueConstraint(fields=["company", "execution_id"], name="%(app_label)s_%(class)s_unique_execution"),
        ]

    def __str__(self):
        return f"{self.runbook_id} {self.execution_id}"


class PatchComplianceSnapshot(models.Model):
    """A patch-baseline scan of a company's managed instances (the AWS Patch Manager summary)."""

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="patch_snapshots")
    scanned_at = models.DateTimeField()
    total_instances = models.PositiveIntegerField()
    compliant_instances = models.PositiveIntegerField()
    non_compliant_instances = models.PositiveIntegerField()
    critical_patches_missing = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["company", "-scanned_at"]
        constraints = [
            models.UniqueConstraint(fields=["company", "scanned_at"], name="%(app_label)s_%(class)s_unique_scan"),
            models.CheckConstraint(
                condition=Q(total_instances=F("compliant_instances") + F("non_compliant_instances")),
                name="%(app_label)s_%(class)s_counts_add_up",
                violation_error_message="Compliant plus non-compliant instances must equal the total.",
            ),
        ]

    def __str__(self):
        return f"{self.company} scan {self.scanned_at:%Y-%m-%d %H:%M}"


class Alert(models.Model):
    """A raw alert as received; correlation assigns it to an incident."""

    # Indexed by the (company, issued_at) index, which leads with it: correlation rewrites a million alerts
    # through every index of the table.
    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="alerts", db_index=False)
    # Not indexed: alerts are never read by service, and deleting a service (rare, by hand) may scan them once.
    service = models.ForeignKey(
        Service, null=True, blank=True, on_delete=models.SET_NULL, related_name="alerts", db_index=False
    )
    asset = models.CharField(max_length=200)
    signature = models.CharField(max_length=200)
    severity = models.CharField(max_length=16, choices=AlertSeverity.choices)
    issued_at = models.DateTimeField()
    source = models.CharField(max_length=64, help_text="e.g. alertmanager, cloudwatch, datadog")
    external_id = models.CharField(
        max_length=200, blank=True, help_text="The sender's id (e.g. Alertmanager fingerprint + start); makes re-sends idempotent."
    )
    ended_at = models.DateTimeField(
        null=True, blank=True, help_text="When the sender said it resolved (Alertmanager's endsAt); empty while firing."
    )
    payload = models.JSONField(default=dict, blank=True)
    incident = models.ForeignKey(Incident, null=True, blank=True, on_delete=models.SET_NULL, related_name="alerts")
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-issued_at"]
        constraints = [
            # With the time it was issued: on PostgreSQL alerts are partitioned by month of issued_at, and a unique
            # key of a partitioned table holds its partition key. A sender's id names one alert anyway
            # (Alertmanager's is fingerprint + start), and ingestion dedupes by (company, source, external_id).
            models.UniqueConstraint(
                fields=["company", "source", "external_id", "issued_at"],
                condition=~Q(external_id=""),
                name="%(app_label)s_%(class)s_unique_external_id",
            ),
        ]
        indexes = [
            models.Index(fields=["company", "issued_at"]),
            # Correlation walks the uncorrelated alerts of a company in time order.
            models.Index(fields=["company", "issued_at"], condition=Q(incident__isnull=True), name="incidents_alert_uncorrelated"),
        ]

    def __str__(self):
        return f"{self.company.slug} {self.asset} {self.signature} at {self.issued_at:%Y-%m-%d %H:%M}"
