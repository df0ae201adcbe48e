"""
The security KPIs computed from the scanners' findings, one value per company and UTC day (registered in
kpis.calculators' registry). They feed the seed's Security Scoring Formula (scoring.normalisation.SCORE_FORMULAS)
as its critical_cve_age_days, vuln_sla_compliance_pct and secret_violations.

A company without any report of the scanners a KPI reads has no value for it (never a fake 0 or 100).
"""
from functools import partial

from django.db.models import DateTimeField, F, Min, Q

from kpis.calculators import DAY, ONE_DAY, ROLLING_WINDOW, calculator, computed_from, evidence
from kpis.calculators.toolkit import RowsInWindows, company_filter, from_db, minutes_between_sql

from . import patch_compliance  # noqa: F401  (registers patch compliance, computed from patch scans)
from .choices import VULNERABILITY_SCANNERS, Scanner, Severity
from .models import ScanReport, SecretFinding, Vulnerability
from .querysets import remediation_due_at

computed_from(__name__, "scanner reports: upload Trivy, Snyk or Gitleaks output to /api/scans/{trivy,snyk,gitleaks}/")

MINUTES_PER_DAY = 1440.0


def _scanned_companies(scanners, company_id):
    """Companies with a report of one of `scanners`, `since` the first was scanned."""
    reports = ScanReport.objects.filter(company_filter(company_id, "service__domain__company_id"), scanner__in=scanners)
    return reports.order_by().values(obs_company=F("service__domain__company_id")).annotate(since=Min("scanned_at"))


def _counted_findings(findings, *fields):
    """`findings` (vulnerabilities or secrets) as counted rows: their `fields` and their service's company."""
    return findings.order_by().values(*fields, obs_company=F("service__domain__company_id"))


# --- Figures over any windows, shared by the daily calculators and the evidence ------------------------------


def _due_or_fixed(start, end, company_id):
    """Vulnerabilities whose remediation was due in [start, end), or that were fixed in it, with `due_at`."""
    vulnerabilities = Vulnerability.objects.of_company(company_id).annotate(due_at=remediation_due_at())
    due_or_fixed = vulnerabilities.filter(Q(due_at__gte=start, due_at__lt=end) | Q(fixed_at__gte=start, fixed_at__lt=end))
    return _counted_findings(due_or_fixed, "due_at", "fixed_at")


# Vulnerabilities whose remediation was due in a window, or that were fixed in it: `vulnerabilities_due`,
# `remediated_within_sla` (fixed at or before the deadline of their severity, choices.SLA_DAYS) and
# `vuln_sla_compliance_pct`. One still open past its deadline counts as missed.
SLA_COMPLIANCE = RowsInWindows(
    counted=_due_or_fixed,
    within="""
        (counted.due_at >= windows.starts AND counted.due_at < windows.ends)
        OR (counted.fixed_at >= windows.starts AND counted.fixed_at < windows.ends)
    """,
    totals={
        "vulnerabilities_due": "COUNT(*)",
        "remediated_within_sla": "COUNT(CASE WHEN counted.fixed_at <= counted.due_at THEN 1 END)",
    },
    figures={"vuln_sla_compliance_pct": "100.0 * remediated_within_sla / NULLIF(vulnerabilities_due, 0)"},
    window=ROLLING_WINDOW,
)


def _open_critical(start, end, company_id):
    critical = Vulnerability.objects.of_company(company_id).open_during(start, end).filter(severity=Severity.CRITICAL)
    return _counted_findings(critical, "first_seen_at", "fixed_at")


# Per company with a Trivy or Snyk report before a window's end: `open_critical` vulnerabilities at that end, the
# `oldest_critical_first_seen_at` of them and `critical_cve_age_days` since it (0 when none is open).
CRITICAL_EXPOSURE = RowsInWindows(
    counted=_open_critical,
    within="counted.first_seen_at < windows.ends AND (counted.fixed_at IS NULL OR counted.fixed_at > windows.ends)",
    totals={"open_critical": "COUNT(counted.obs_company)", "oldest_critical_first_seen_at": "MIN(counted.first_seen_at)"},
    figures={
        "critical_cve_age_days": lambda: (
            f"COALESCE({minutes_between_sql('window_end', 'oldest_critical_first_seen_at')} / {MINUTES_PER_DAY}, 0.0)"
        ),
    },
    window=ONE_DAY,
    reporting=partial(_scanned_companies, VULNERABILITY_SCANNERS),
)


def _open_secrets(start, end, company_id):
    secrets = SecretFinding.objects.of_company(company_id).open_during(start, end)
    return _counted_findings(secrets, "detected_at", "resolved_at")


# Per company with a Gitleaks report before a window's end: `secret_violations`, the committed secrets open at some
# moment of the window (detected before its end, not resolved by its start).
SECRET_EXPOSURE = RowsInWindows(
    counted=_open_secrets,
    within="counted.detected_at < windows.ends AND (counted.resolved_at IS NULL OR counted.resolved_at > windows.starts)",
    totals={"secret_violations": "COUNT(counted.obs_company)"},
    figures={},
    window=ONE_DAY,
    reporting=partial(_scanned_companies, [Scanner.GITLEAKS]),
)


# --- Daily calculators -----------------------------------------------------------------------------------------


@calculator("vuln-sla-compliance", grain=DAY, many_days=True)
def vuln_sla_compliance_rows(period, company_id=None):
    """
    Vulnerabilities remediated within their severity's SLA / vulnerabilities due (or fixed) in the 30 days
    ending with each day * 100; no value without any due or fixed.
    """
    return SLA_COMPLIANCE.day_rows(period, company_id, value="vuln_sla_compliance_pct")


@calculator("critical-cve-age", grain=DAY, many_days=True)
def critical_cve_age_rows(period, company_id=None):
    """Days from the first report of the oldest critical vulnerability still open at each day's end to that end."""
    return CRITICAL_EXPOSURE.day_rows(period, company_id, value="critical_cve_age_days")


@calculator("secret-scan-violations", grain=DAY, many_days=True)
def secret_scan_violations_rows(period, company_id=None):
    """Committed secrets open at some moment of each day: found that day or still unresolved from before."""
    return SECRET_EXPOSURE.day_rows(period, company_id, value="secret_violations")


# --- Evidence: the numbers behind a value, for any period -----------------------------------------------------


@evidence("vuln-sla-compliance", window=ROLLING_WINDOW)
def vuln_sla_compliance_evidence(company, start, end):
    """Vulnerabilities due or fixed in [start, end) and those remediated within SLA; None without any."""
    return SLA_COMPLIANCE.figures_of(company, start, end, "vulnerabilities_due", "remediated_within_sla", "vuln_sla_compliance_pct")


@evidence("critical-cve-age")
def critical_cve_age_evidence(company, start, end):
    """Open critical vulnerabilities at `end` and the oldest one's first report; None without any scan."""
    row = CRITICAL_EXPOSURE.figures_of(company, start, end, "open_critical", "oldest_critical_first_seen_at", "critical_cve_age_days")
    if row is not None:
        row["oldest_critical_first_seen_at"] = from_db(row["oldest_critical_first_seen_at"], DateTimeField())
    return row


@evidence("secret-scan-violations")
def secret_scan_violations_evidence(company, start, end):
    """Committed secrets open at some moment of [start, end); None without any Gitleaks report."""
    return SECRET_EXPOSURE.figures_of(company, start, end, "secret_violations")
