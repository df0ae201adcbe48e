"""
The tenant and its cascade: a company, its domains and their services. Every other app points here;
this app points at none of them.

The tables and constraint names are those these models had when they lived in `incidents`: moving them
changed where the code lives, not a row or an index of a database.

Memberships grant users companies; their role groups (tenancy.roles) say what they may do there.
"""
from django.conf import settings
from django.db import models
from simple_history.models import HistoricalRecords


class Company(models.Model):
    """A tenant. Scores cascade service -> domain -> company."""

    slug = models.SlugField(max_length=64, unique=True, help_text="e.g. comp-acme")
    name = models.CharField(max_length=200)

    class Meta:
        db_table = "incidents_company"
        ordering = ["slug"]
        verbose_name_plural = "companies"
        # Portal-wide readers (an MSP's auditors) see every company without a membership of each.
        permissions = [("view_all_companies", "Can see every company's data without being a member")]

    def __str__(self):
        return self.slug


class Domain(models.Model):
    """A group of services within a company, e.g. "Data Platform" or "API Gateway"."""

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="domains")
    slug = models.SlugField(max_length=64)
    name = models.CharField(max_length=200)

    class Meta:
        db_table = "incidents_domain"
        ordering = ["company__slug", "slug"]
        constraints = [
            models.UniqueConstraint(fields=["company", "slug"], name="incidents_domain_unique_slug"),
        ]

    def __str__(self):
        return f"{self.company.slug}/{self.slug}"


class Service(models.Model):
    """A deployable service; the smallest scope that observations and scores are kept for."""

    domain = models.ForeignKey(Domain, on_delete=models.CASCADE, related_name="services")
    slug = models.SlugField(max_length=64)
    name = models.CharField(max_length=200)

    class Meta:
        db_table = "incidents_service"
        ordering = ["domain__company__slug", "domain__slug", "slug"]
        constraints = [
            models.UniqueConstraint(fields=["domain", "slug"], name="incidents_service_unique_slug"),
        ]

    def __str__(self):
        return f"{self.domain}/{self.slug}"


class Membership(models.Model):
    """
    A user's access to one company's data: they read it (as their role allows) and, as a data source, write into
    it. Every grant and removal is kept in the history with who made it.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="memberships")
    granted_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords(
        history_change_reason_field=models.TextField(null=True),
        verbose_name="membership change",
        verbose_name_plural="membership changes",
    )

    class Meta:
        ordering = ["company__slug", "user__username"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "company"],
                name="%(app_label)s_%(class)s_unique_user_company",
                violation_error_message="This user is a member of this company already.",
            ),
        ]

    def __str__(self):
        return f"{self.user} in {self.company}"
