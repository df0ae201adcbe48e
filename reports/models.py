"""The stored health reports: what a company's health was over a period, as its audience read it, never changed."""
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q

from kpis.roles import sees_internal_kpis
from tenancy.access import in_visible_companies

from .choices import Audience, ReportKind


class ReportQuerySet(models.QuerySet):
    def readable_by(self, user):
        """The reports of `user`'s companies whose audience `user` belongs to (internal KPIs only for the internal roles)."""
        reports = in_visible_companies(self, user)
        return reports if sees_internal_kpis(user) else reports.filter(audience=Audience.EXEC)


class Report(models.Model):
    """
    A company's health report over a period (its composite, dimensions, breaches, definition changes, overdue
    reviews and the alert methodology's proof), as HTML and PDF, with the ids of what it was computed from.

    Immutable: stored once by reports.services and never updated (save() refuses an existing row; the admin is
    read-only), so a later change of a definition or a recomputed snapshot leaves it as it was read. One monthly
    report per company, month and audience.
    """

    company = models.ForeignKey("tenancy.Company", on_delete=models.CASCADE, related_name="reports")
    period_start = models.DateField(help_text="The first day of the period (UTC).")
    period_end = models.DateField(help_text="The last day of the period, inclusive (UTC).")
    kind = models.CharField(max_length=10, choices=ReportKind.choices)
    audience = models.CharField(max_length=8, choices=Audience.choices, default=Audience.EXEC)
    created_at = models.DateTimeField()
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        help_text="Who asked for it; empty for the monthly report the scheduler builds.",
    )
    html = models.TextField(help_text="The report as a self-contained HTML page.")
    pdf = models.BinaryField(help_text="The same report printed to PDF.")
    sources = models.JSONField(
        help_text="What it was computed from: snapshot ids and computed times, definition and weights history ids, "
        "proposal and breach ids."
    )

    objects = ReportQuerySet.as_manager()

    class Meta:
        ordering = ["-period_end", "-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["company", "period_start", "audience"],
                condition=Q(kind=ReportKind.MONTHLY),
                name="%(app_label)s_%(class)s_one_monthly",
                violation_error_message="This company already has its monthly report for this month.",
            ),
            models.CheckConstraint(
                condition=Q(period_end__gte=models.F("period_start")),
                name="%(app_label)s_%(class)s_period_in_order",
                violation_error_message="A report's period ends on or after its first day.",
            ),
        ]
        indexes = [models.Index(fields=["company", "period_end"])]

    def __str__(self):
        return f"{self.company} {self.get_kind_display().lower()} report {self.period_start} to {self.period_end}"

    def save(self, *args, **kwargs):
        if self.pk is not None or not self._state.adding:
            raise ValidationError("A stored report never changes; build a new one instead.")
        super().save(*args, **kwargs)

    @property
    def file_stem(self):
        return f"health-report-{self.company.slug}-{self.period_start:%Y-%m-%d}-to-{self.period_end:%Y-%m-%d}"
