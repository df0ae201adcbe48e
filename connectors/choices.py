from django.db import models


class IntegrationKind(models.TextChoices):
    """Tools that reach the portal with credentials of their own (a signing secret or a bearer token)."""

    GITHUB = "github", "GitHub"
    PAGERDUTY = "pagerduty", "PagerDuty"
    PROMETHEUS = "prometheus", "Prometheus"


# Integrations whose webhooks sign every delivery; their integration belongs to one company.
WEBHOOK_KINDS = (IntegrationKind.GITHUB, IntegrationKind.PAGERDUTY)


class EventSource(models.TextChoices):
    """Where a received payload came from: a webhook, a Prometheus query, or an uploaded file."""

    GITHUB = "github", "GitHub webhook"
    PAGERDUTY = "pagerduty", "PagerDuty webhook"
    PROMETHEUS = "prometheus", "Prometheus query"
    ALERTMANAGER = "alertmanager", "Alertmanager webhook"
    TRIVY = "trivy", "Trivy report"
    SNYK = "snyk", "Snyk test result"
    GITLEAKS = "gitleaks", "Gitleaks report"
    SSM_PATCH_STATES = "ssm-patch-states", "AWS SSM instance patch states"
    BILLING_CSV = "billing-csv", "Billing revenue CSV"
    CLOUD_COST_CSV = "cloud-cost-csv", "Cloud cost CSV (AWS CUR)"
    ACTIVE_USERS_CSV = "active-users-csv", "Active users CSV"
    FEATURE_FLAGS_CSV = "feature-flags-csv", "Feature-flag evaluations CSV"


class EventStatus(models.TextChoices):
    PROCESSED = "processed", "Processed"
    IGNORED = "ignored", "Ignored"
    FAILED = "failed", "Failed"
