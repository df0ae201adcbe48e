from django.db import models


class ScopeLevel(models.TextChoices):
    """The cascade, bottom up: service scores roll up to domains, domains to the company."""

    SERVICE = "service", "Service"
    DOMAIN = "domain", "Domain"
    COMPANY = "company", "Company"


class RollupBucket(models.TextChoices):
    HOUR = "hour", "Hourly"
    DAY = "day", "Daily"
