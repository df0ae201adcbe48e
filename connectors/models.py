"""
What connects the portal to the tools it reads: integrations (credentials per tool and company), the
links from a tool's own names to our services, and every payload received, kept raw with what it produced.
"""
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from simple_history.models import HistoricalRecords

from .choices import WEBHOOK_KINDS, EventSource, EventStatus, IntegrationKind


class Integration(models.Model):
    """
    One configured tool: a GitHub organisation or a PagerDuty account whose webhooks sign with `secret`,
    or a Prometheus server at `url` queried with `secret` as its optional bearer token.

    Change-controlled like definitions; the secret itself stays out of the history (auditors see that it
    changed through `secret_set_at`, never its value).
    """

    kind = models.CharField(max_length=16, choices=IntegrationKind.choices)
    name = models.CharField(max_length=200)
    company = models.ForeignKey(
        "tenancy.Company",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="integrations",
        help_text="The company whose data it sends. Required for webhooks; a Prometheus server without one "
        "serves several companies, told apart by each series' `company` label.",
    )
    url = models.URLField(blank=True, help_text="Prometheus: the server's base URL, e.g. http://prometheus:9090.")
    secret = models.CharField(
        max_length=512,
        blank=True,
        help_text="Webhooks: the signing secret. Prometheus: an optional bearer token. Never shown again.",
    )
    secret_set_at = models.DateTimeField(null=True, blank=True, editable=False)
    active = models.BooleanField(default=True, help_text="An inactive integration refuses every delivery.")

    history = HistoricalRecords(excluded_fields=["secret"])

    class Meta:
        ordering = ["kind", "name"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "name"], name="%(app_label)s_%(class)s_unique_name"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()}: {self.name}"

    def clean(self):
        errors = {}
        if self.kind in WEBHOOK_KINDS:
            if self.company_id is None:
                errors["company"] = "A webhook integration belongs to one company."
            if not self.secret:
                errors["secret"] = "A webhook integration needs the signing secret its deliveries are signed with."
        if self.kind == IntegrationKind.PROMETHEUS and not self.url:
            errors["url"] = "A Prometheus integration needs the server's URL."
        if errors:
            raise ValidationError(errors)

    def set_secret(self, secret):
        self.secret = secret
        self.secret_set_at = timezone.now()


class ServiceLink(models.Model):
    """A tool's own name for one of our services: a GitHub repository, a PagerDuty service ID."""

    integration = models.ForeignKey(Integration, on_delete=models.CASCADE, related_name="service_links")
    external_id = models.CharField(
        max_length=200, help_text="GitHub: the repository's full name (owner/repo). PagerDuty: the service ID."
    )
    service = models.ForeignKey("tenancy.Service", on_delete=models.CASCADE, related_name="links")

    class Meta:
        ordering = ["integration", "external_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["integration", "external_id"], name="%(app_label)s_%(class)s_unique_external_id"
            ),
        ]

    def __str__(self):
        return f"{self.external_id} -> {self.service}"

    def clean(self):
        if self.integration_id and self.service_id and self.integration.company_id is not None:
            if self.service.domain.company_id != self.integration.company_id:
                raise ValidationError({"service": "The service belongs to another company than the integration."})


class SourceEvent(models.Model):
    """
    One payload as received (webhook delivery, Prometheus response, uploaded file), kept verbatim with
    what it produced, so an auditor can trace any incident, deployment, finding or observation back to it.

    (source, delivery_id) is unique: a redelivery finds its event and changes nothing. Uploads use the
    SHA-256 of the file (and its scope) as their delivery ID, so the same file twice is one event.
    """

    source = models.CharField(max_length=32, choices=EventSource.choices)
    delivery_id = models.CharField(max_length=200)
    event_type = models.CharField(max_length=100, blank=True)
    integration = models.ForeignKey(
        Integration, null=True, blank=True, on_delete=models.PROTECT, related_name="events"
    )
    company = models.ForeignKey(
        "tenancy.Company", null=True, blank=True, on_delete=models.CASCADE, related_name="source_events"
    )
    received_at = models.DateTimeField(default=timezone.now)
    received_by = models.ForeignKey(
        "auth.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        help_text="Who uploaded it; empty for signed webhooks and scheduled queries.",
    )
    payload = models.JSONField(null=True, blank=True, help_text="The JSON payload, as received.")
    raw = models.TextField(blank=True, help_text="A payload that is not JSON (a CSV file), as received.")
    status = models.CharField(max_length=16, choices=EventStatus.choices, default=EventStatus.PROCESSED)
    detail = models.TextField(blank=True, help_text="Why it was ignored or failed.")
    produced = models.JSONField(
        default=dict, blank=True, help_text="What it produced: model label -> primary keys, or counts."
    )

    class Meta:
        ordering = ["-received_at"]
        constraints = [
            models.UniqueConstraint(fields=["source", "delivery_id"], name="%(app_label)s_%(class)s_unique_delivery"),
        ]
        indexes = [models.Index(fields=["company", "received_at"])]

    def __str__(self):
        return f"{self.get_source_display()} {self.event_type} {self.delivery_id}"
