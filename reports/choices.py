from django.db import models


class ReportKind(models.TextChoices):
    MONTHLY = "monthly", "Monthly"
    ON_DEMAND = "on_demand", "On demand"


class Audience(models.TextChoices):
    """Whose KPIs a report shows: exec-visible ones only, or every KPI (the internal roles')."""

    EXEC = "exec", "Executives (exec KPIs only)"
    INTERNAL = "internal", "Internal roles (every KPI)"
