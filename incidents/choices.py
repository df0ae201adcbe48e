from django.db import models


class Severity(models.TextChoices):
    P1 = "P1", "P1 (critical)"
    P2 = "P2", "P2 (high)"
    P3 = "P3", "P3 (moderate)"
    P4 = "P4", "P4 (low)"


class IncidentStatus(models.TextChoices):
    OPEN = "open", "Open"
    ACKNOWLEDGED = "acknowledged", "Acknowledged"
    RESOLVED = "resolved", "Resolved"


class Phase(models.TextChoices):
    """The major-incident timeline, in order. mtta is measured from the alert to `gather`."""

    ALERT = "alert", "1. Alert"
    GATHER = "gather", "2. Gather"
    TRIAGE = "triage", "3. Triage"
    MITIGATE = "mitigate", "4. Mitigate"
    RESOLVED = "resolved", "5. Resolved"


class AlertSeverity(models.TextChoices):
    CRITICAL = "critical", "Critical"
    HIGH = "high", "High"
    WARNING = "warning", "Warning"
    INFO = "info", "Info"


# The incident severity a correlated group of alerts gets from its most severe alert.
INCIDENT_SEVERITY_FOR_ALERT = {
    AlertSeverity.CRITICAL: Severity.P1,
    AlertSeverity.HIGH: Severity.P2,
    AlertSeverity.WARNING: Severity.P3,
    AlertSeverity.INFO: Severity.P4,
}
