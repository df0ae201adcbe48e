"""
The security KPIs computed from the scanners' findings, one value per company and UTC day (registered in
kpis.calculators' registry). They feed the seed's Security Scoring Formula (scoring.calculators.SCORE_FORMULAS)
as its critical_cve_age_days, vuln_sla_compliance_pct and secret_violations.

A company without any report of the scanners a KPI reads has no value for it (never a fake 0 or 100).
"""
from django.db.models import (
    Count,
    DateTimeField,
    Exists,
    F,
    FloatField,
    OuterRef,
    Q,
    Subquery,
    Value,
)
from django.db.models.functions import Cast, Coalesce

from incidents.models import Company
from kpis.calculators import (
    DAY,
    ROLLING_WINDOW,
    MinutesBetween,
    _day_rows,
    _one_row,
    calculator,
    evidence,
    percent,
)

from .choices import VULNERABILITY_SCANNERS, Scanner, Severity
from .models import ScanReport, SecretFinding, Vulnerability
from .querysets import remediation_due_at

MINUTES_PER_DAY = 1440.0


def _scanned_companies(scanners, before, company_id):
    """Companies with a report of one of `scanners` scanned before `before`, as rows with `obs_company`."""
    scanned = ScanReport.objects.filter(
        service__domain__company=OuterRef("pk"), scanner__in=scanners, scanned_at__lt=before
    )
    companies = Company.objects.filter(Exists(scanned))
    if company_id is not None:
        companies = companies.filter(pk=company_id)
    return companies.order_by().values(obs_company=F("pk"))


def _count(queryset):
    """COUNT(*) of `queryset` as a scalar subquery (0 when it is empty)."""
    counted = queryset.order_by().values("service__domain__company").annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(counted), 0)


# --- Row queries for any period, shared by the daily calculators and the evidence ----------------------------


def sla_window(start, end, company_id=None):
    """
    Per company with vulnerabilities whose remediation was due in [start, end) or that were fixed in it:
    `vulnerabilities_due`, `remediated_within_sla` (fixed at or before the deadline of their severity,
    choices.SLA_DAYS) and `vuln_sla_compliance_pct`. One still open past its deadline counts as missed.
    """
    counted = (
        Vulnerability.objects.of_company(company_id)
        .alias(due_at=remediation_due_at())
        .filter(Q(due_at__gte=start, due_at__lt=end) | Q(fixed_at__gte=start, fixed_at__lt=end))
    )
    return counted.order_by().values(obs_company=F("service__domain__company_id")).annotate(
        vulnerabilities_due=Count("pk"),
        remediated_within_sla=Count("pk", filter=Q(fixed_at__lte=F("due_at"))),
        vuln_sla_compliance_pct=percent(F("remediated_within_sla"), F("vulnerabilities_due")),
    )


def critical_exposure(moment, company_id=None):
    """
    Per company with a Trivy or Snyk report before `moment`: `open_critical` vulnerabilities at `moment`,
    the `oldest_critical_first_seen_at` of them and `critical_cve_age_days` since it (0 when none is open).
    """
    open_critical = Vulnerability.objects.open_at(moment).filter(
        service__domain__company=OuterRef("pk"), severity=Severity.CRITICAL
    )
    oldest = Subquery(open_critical.order_by("first_seen_at").values("first_seen_at")[:1], output_field=DateTimeField())
    return _scanned_companies(VULNERABILITY_SCANNERS, moment, company_id).annotate(
        open_critical=_count(open_critical),
        oldest_critical_first_seen_at=oldest,
        critical_cve_age_days=Coalesce(
            MinutesBetween(Value(moment, output_field=DateTimeField()), F("oldest_critical_first_seen_at")) / Value(MINUTES_PER_DAY),
            Value(0.0),
        ),
    )


def secret_exposure(start, end, company_id=None):
    """
    Per company with a Gitleaks report before `end`: `secret_violations`, the committed secrets open at
    some moment of [start, end) (detected before its end, not resolved by its start).
    """
    violations = SecretFinding.objects.open_during(start, end).filter(service__domain__company=OuterRef("pk"))
    return _scanned_companies([Scanner.GITLEAKS], end, company_id).annotate(secret_violations=_count(violations))


# --- Daily calculators -----------------------------------------------------------------------------------------


@calculator("vuln-sla-compliance", grain=DAY)
def vuln_sla_compliance_rows(day, company_id=None):
    """
    Vulnerabilities remediated within their severity's SLA / vulnerabilities due (or fixed) in the 30 days
    ending with the day * 100; no value without any due or fixed.
    """
    window = sla_window(day.end - ROLLING_WINDOW, day.end, company_id)
    return _day_rows(window, day, value=F("vuln_sla_compliance_pct"))


@calculator("critical-cve-age", grain=DAY)
def critical_cve_age_rows(day, company_id=None):
    """Days from the first report of the oldest critical vulnerability still open at the day's end to that end."""
    return _day_rows(critical_exposure(day.end, company_id), day, value=F("critical_cve_age_days"))


@calculator("secret-scan-violations", grain=DAY)
def secret_scan_violations_rows(day, company_id=None):
    """Committed secrets open at some moment of the day: found that day or still unresolved from before."""
    return _day_rows(secret_exposure(day.start, day.end, company_id), day, value=Cast(F("secret_violations"), FloatField()))


# --- Evidence: the numbers behind a value, for any period -----------------------------------------------------


@evidence("vuln-sla-compliance", window=ROLLING_WINDOW)
def vuln_sla_compliance_evidence(company, start, end):
    """Vulnerabilities due or fixed in [start, end) and those remediated within SLA; None without any."""
    return _one_row(sla_window(start, end, company.pk), "vulnerabilities_due", "remediated_within_sla", "vuln_sla_compliance_pct")


@evidence("critical-cve-age")
def critical_cve_age_evidence(company, start, end):
    """Open critical vulnerabilities at `end` and the oldest one's first report; None without any scan."""
    return _one_row(critical_exposure(end, company.pk), "open_critical", "oldest_critical_first_seen_at", "critical_cve_age_days")


@evidence("secret-scan-violations")
def secret_scan_violations_evidence(company, start, end):
    """Committed secrets open at some moment of [start, end); None without any Gitleaks report."""
    return _one_row(secret_exposure(start, end, company.pk), "secret_violations")
