"""
Product usage imported from files: who was active each day (an analytics export) and how feature flags
evaluated (a feature-flag tool's export). Each row keeps the uploaded file it came from
(connectors.SourceEvent), which a later export of the same day replaces.
"""
from django.db import models
from django.db.models import F, Q

COHORT_HELP = "The tenant's customer cohort that day, e.g. Enterprise, SMB or Free; empty when the export names none."


class ActiveUser(models.Model):
    """A user of a tenant (a customer account of the company's product) active on a UTC day."""

    company = models.ForeignKey("tenancy.Company", on_delete=models.CASCADE, related_name="active_users")
    day = models.DateField()
    tenant_id = models.CharField(max_length=200)
    user_id = models.CharField(max_length=200, help_text="Identifies the user across tenants.")
    cohort = models.CharField(max_length=100, blank=True, help_text=COHORT_HELP)
    source_event = models.ForeignKey(
        "connectors.SourceEvent", on_delete=models.RESTRICT, related_name="active_users",
        help_text="The uploaded file this row came from.",
    )

    class Meta:
        ordering = ["company", "day", "tenant_id", "user_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["company", "day", "tenant_id", "user_id"],
                name="%(app_label)s_%(class)s_unique_user_day",
                violation_error_message="This user of this tenant is already active on this day.",
            ),
        ]

    def __str__(self):
        return f"{self.day}: {self.user_id} ({self.tenant_id})"


class FeatureFlagEvaluation(models.Model):
    """
    How often a feature flag served one of its variations on a UTC day, and to how many distinct
    contexts (users); `enabled` says whether that variation turns the feature on.
    """

    company = models.ForeignKey("tenancy.Company", on_delete=models.CASCADE, related_name="feature_flag_evaluations")
    day = models.DateField()
    flag_key = models.CharField(max_length=200)
    variation = models.CharField(max_length=200, help_text="The variation served, e.g. true, false or a variant's name.")
    enabled = models.BooleanField(help_text="The variation turns the feature on.")
    evaluations = models.PositiveBigIntegerField()
    contexts = models.PositiveBigIntegerField(help_text="Distinct contexts (users) served this variation that day.")
    tenant_id = models.CharField(
        max_length=200, blank=True, help_text="The tenant these evaluations were served in; empty: not split by tenant."
    )
    cohort = models.CharField(max_length=100, blank=True, help_text=COHORT_HELP)
    source_event = models.ForeignKey(
        "connectors.SourceEvent", on_delete=models.RESTRICT, related_name="feature_flag_evaluations",
        help_text="The uploaded file this row came from.",
    )

    class Meta:
        ordering = ["company", "day", "flag_key", "variation"]
        constraints = [
            models.UniqueConstraint(
                fields=["company", "day", "flag_key", "variation", "tenant_id", "cohort"],
                name="%(app_label)s_%(class)s_unique_variation_day",
                violation_error_message="This flag's variation already has evaluations on this day for this tenant and cohort.",
            ),
            models.CheckConstraint(
                condition=Q(contexts__lte=F("evaluations")),
                name="%(app_label)s_%(class)s_contexts_at_most_evaluations",
                violation_error_message="Each context counted was evaluated at least once.",
            ),
        ]

    def __str__(self):
        return f"{self.day} {self.flag_key}={self.variation}{f' ({self.tenant_id})' if self.tenant_id else ''}: {self.evaluations}"
