"""The health status bands of the CompanyOS KPI & Health Model, shared by snapshots, the API and the cockpit."""
from dataclasses import dataclass

from django.db import models


class HealthBand(models.TextChoices):
    EXCELLENT = "excellent", "Excellent"
    HEALTHY = "healthy", "Healthy"
    ATTENTION = "attention", "Attention"
    WARNING = "warning", "Warning"
    CRITICAL = "critical", "Critical"


@dataclass(frozen=True)
class Band:
    """A status band: scores at or above `floor` (and below the next band's floor) belong to it."""

    key: str
    name: str
    floor: float
    colour: str
    action: str


# Highest first. The seed's table lists whole numbers (80-89, 90-100): a score belongs to the band whose
# floor it has reached, so 89.99 is Healthy and 90 is Excellent.
BANDS = (
    Band(HealthBand.EXCELLENT, "Excellent", 90, "green", "Continue monitoring"),
    Band(HealthBand.HEALTHY, "Healthy", 80, "light green", "Review weekly"),
    Band(HealthBand.ATTENTION, "Attention", 60, "yellow", "Investigate trends"),
    Band(HealthBand.WARNING, "Warning", 40, "orange", "Active remediation"),
    Band(HealthBand.CRITICAL, "Critical", 0, "red", "Immediate escalation"),
)
BANDS_BY_KEY = {band.key: band for band in BANDS}


def band_for(score):
    """The Band of a 0-100 score, or None when there is no score (nothing was covered)."""
    if score is None:
        return None
    for band in BANDS:
        if score >= band.floor:
            return band
    return BANDS[-1]
