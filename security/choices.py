from django.db import models


class Scanner(models.TextChoices):
    """The tools whose reports we read; the values are also their connectors.choices.EventSource."""

    TRIVY = "trivy", "Trivy"
    SNYK = "snyk", "Snyk"
    GITLEAKS = "gitleaks", "Gitleaks"


# Scanners whose reports list vulnerabilities (Gitleaks lists committed secrets).
VULNERABILITY_SCANNERS = (Scanner.TRIVY, Scanner.SNYK)


class Severity(models.TextChoices):
    CRITICAL = "critical", "Critical"
    HIGH = "high", "High"
    MEDIUM = "medium", "Medium"
    LOW = "low", "Low"


# Days from a vulnerability's first report to its remediation deadline. Critical: 7, the health model's
# critical threshold for Critical CVE Age; high 30, medium 90, low 180: FedRAMP's remediation timeframes.
SLA_DAYS = {Severity.CRITICAL: 7, Severity.HIGH: 30, Severity.MEDIUM: 90, Severity.LOW: 180}
