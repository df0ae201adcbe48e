"""
What the scanners report about our services: vulnerabilities (Trivy, Snyk) and committed secrets
(Gitleaks), each kept with the uploaded report it came from.

A report is the full current state of one service for its scanner: what it lists is open, what a newer
report no longer lists is fixed (resolved) at that report's scan time, and what reappears is reopened.
"""
from django.db import models

from .choices import VULNERABILITY_SCANNERS, Scanner, Severity
from .querysets import SecretFindingQuerySet, VulnerabilityQuerySet


class ScanReport(models.Model):
    """One applied report: which service, which scanner, when it scanned, and the received file."""

    service = models.ForeignKey("tenancy.Service", on_delete=models.CASCADE, related_name="scan_reports")
    scanner = models.CharField(max_length=16, choices=Scanner.choices)
    scanned_at = models.DateTimeField(
        help_text="The scan time given at upload, else the report's own (Trivy's CreatedAt), else the upload time."
    )
    findings = models.PositiveIntegerField(help_text="Vulnerabilities or secrets the report lists.")
    source_event = models.OneToOneField(
        "connectors.SourceEvent", on_delete=models.RESTRICT, related_name="scan_report"
    )

    class Meta:
        ordering = ["-scanned_at"]
        indexes = [models.Index(fields=["service", "scanner", "scanned_at"])]

    def __str__(self):
        return f"{self.get_scanner_display()} {self.service} at {self.scanned_at:%Y-%m-%d %H:%M}"


class Vulnerability(models.Model):
    """
    A vulnerable package of a service as its scanner reports it. `first_seen_at` is the scan time of the
    first report listing it and stays when it is fixed and reappears (reopened): its SLA clock runs from
    when it was first found, so a regression does not buy a new deadline.
    """

    service = models.ForeignKey("tenancy.Service", on_delete=models.CASCADE, related_name="vulnerabilities")
    scanner = models.CharField(max_length=16, choices=[(s.value, s.label) for s in VULNERABILITY_SCANNERS])
    vulnerability_id = models.CharField(max_length=200, help_text="e.g. CVE-2024-3094 or SNYK-JS-LODASH-567746.")
    package = models.CharField(max_length=300)
    installed_version = models.CharField(max_length=200, blank=True)
    fixed_version = models.CharField(max_length=500, blank=True, help_text="The versions that fix it; empty: none yet.")
    severity = models.CharField(max_length=16, choices=Severity.choices)
    title = models.CharField(max_length=500, blank=True)
    aliases = models.CharField(max_length=500, blank=True, help_text="Other identifiers of the issue (a Snyk issue's CVEs).")
    first_seen_at = models.DateTimeField()
    last_seen_at = models.DateTimeField(help_text="The scan time of the latest report listing it.")
    fixed_at = models.DateTimeField(
        null=True, blank=True, help_text="The scan time of the first report no longer listing it; empty while open."
    )
    last_seen_event = models.ForeignKey(
        "connectors.SourceEvent", on_delete=models.RESTRICT, related_name="vulnerabilities",
        help_text="The latest report listing it.",
    )

    objects = VulnerabilityQuerySet.as_manager()

    class Meta:
        ordering = ["service", "scanner", "vulnerability_id", "package"]
        verbose_name_plural = "vulnerabilities"
        constraints = [
            models.UniqueConstraint(
                fields=["service", "scanner", "vulnerability_id", "package"],
                name="%(app_label)s_%(class)s_unique_finding",
                violation_error_message="The scanner already reports this vulnerability of this package for the service.",
            ),
        ]
        indexes = [models.Index(fields=["severity", "fixed_at"])]

    def __str__(self):
        return f"{self.vulnerability_id} in {self.package} ({self.service})"


class SecretFinding(models.Model):
    """
    A secret Gitleaks found committed to a service's repository. The secret itself is never kept: `match`
    has it replaced by REDACTED, as the stored report does.
    """

    service = models.ForeignKey("tenancy.Service", on_delete=models.CASCADE, related_name="secret_findings")
    fingerprint = models.CharField(max_length=1000, help_text="Gitleaks' fingerprint: commit:file:rule:line.")
    rule_id = models.CharField(max_length=200)
    description = models.CharField(max_length=500, blank=True)
    file = models.CharField(max_length=1000)
    line = models.PositiveIntegerField()
    commit = models.CharField(max_length=64, blank=True)
    match = models.TextField(blank=True, help_text="The matched text with the secret REDACTED.")
    found_at = models.DateTimeField(help_text="The commit's date; the scan time when the report has none.")
    detected_at = models.DateTimeField(help_text="The scan time of the first report listing it.")
    resolved_at = models.DateTimeField(
        null=True, blank=True, help_text="The scan time of the first report no longer listing it; empty while open."
    )
    source_event = models.ForeignKey(
        "connectors.SourceEvent", on_delete=models.RESTRICT, related_name="secret_findings",
        help_text="The report that first listed it.",
    )

    objects = SecretFindingQuerySet.as_manager()

    class Meta:
        ordering = ["service", "-detected_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["service", "fingerprint"],
                name="%(app_label)s_%(class)s_unique_fingerprint",
                violation_error_message="Gitleaks already reports this finding for the service.",
            ),
        ]

    def __str__(self):
        return f"{self.rule_id} in {self.file}:{self.line} ({self.service})"


class PatchScan(models.Model):
    """
    One received `ssm.describe_instance_patch_states` answer (AWS Systems Manager Patch Manager): the patch state of
    each of a company's managed instances, as of `scanned_at`, with the uploaded payload it came from.
    """

    company = models.ForeignKey("tenancy.Company", on_delete=models.CASCADE, related_name="patch_scans")
    scanned_at = models.DateTimeField(help_text="The newest OperationEndTime of its instances: when its results are from.")
    source_event = models.OneToOneField("connectors.SourceEvent", on_delete=models.RESTRICT, related_name="patch_scan")

    class Meta:
        ordering = ["company", "-scanned_at"]
        indexes = [models.Index(fields=["company", "scanned_at"])]

    def __str__(self):
        return f"{self.company} patch states at {self.scanned_at:%Y-%m-%d %H:%M}"


class InstancePatchState(models.Model):
    """One managed instance of a patch scan, with Patch Manager's counts of its patches."""

    scan = models.ForeignKey(PatchScan, on_delete=models.CASCADE, related_name="instances")
    instance_id = models.CharField(max_length=200, help_text="InstanceId, e.g. i-0123456789abcdef0.")
    patch_group = models.CharField(max_length=256, blank=True, help_text="PatchGroup; empty when in none.")
    installed_count = models.PositiveIntegerField()
    missing_count = models.PositiveIntegerField()
    failed_count = models.PositiveIntegerField()
    critical_non_compliant_count = models.PositiveIntegerField(default=0)
    operation_end_time = models.DateTimeField(help_text="When the instance's last scan or install operation ended.")

    class Meta:
        ordering = ["scan", "instance_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["scan", "instance_id"],
                name="%(app_label)s_%(class)s_unique_instance",
                violation_error_message="A patch scan lists each instance once.",
            ),
        ]

    def __str__(self):
        return f"{self.instance_id} ({self.scan})"
