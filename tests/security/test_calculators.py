"""The security KPIs against values computed by hand from a small set of findings."""
import datetime

import pytest

from kpis.choices import ObservationSource
from kpis.models import Observation
from kpis.observations import compute_observations
from scoring.normalisation import SCORE_FORMULAS
from security.calculators import critical_cve_age_evidence, vuln_sla_compliance_evidence
from tests.companyos.factories import BASE_TIME
from tests.security.factories import ScanReportFactory, SecretFindingFactory, VulnerabilityFactory
from tests.tenancy.factories import CompanyFactory, ServiceFactory

DAY = BASE_TIME.date()  # 2024-01-15
NEXT_DAY = DAY + datetime.timedelta(days=1)


def at(month, day, hour=0):
    return datetime.datetime(2024 if month < 7 else 2023, month, day, hour, tzinfo=datetime.timezone.utc)


@pytest.fixture
def service(db):
    return ServiceFactory(domain__company=CompanyFactory(slug="comp-acme"))


@pytest.fixture
def other_service(db):
    return ServiceFactory(domain__company=CompanyFactory(slug="comp-globex"))


def values(slug):
    """The stored value of `slug` for DAY, by company slug."""
    compute_observations(slug, since=DAY, until=NEXT_DAY, source=ObservationSource.BACKFILL, run="test")
    return {obs.company.slug: obs.value for obs in Observation.objects.filter(kpi__slug=slug).select_related("company")}


def test_critical_cve_age_is_days_since_the_oldest_critical_still_open_at_the_days_end(computed_kpis, service, other_service):
    ScanReportFactory(service=service, scanned_at=at(1, 1))
    VulnerabilityFactory(service=service, severity="critical", first_seen_at=at(1, 10, 12))
    VulnerabilityFactory(service=service, severity="critical", first_seen_at=at(1, 3), fixed_at=at(1, 16, 6))  # fixed after the day
    VulnerabilityFactory(service=service, severity="critical", first_seen_at=at(1, 1), fixed_at=at(1, 14))
    VulnerabilityFactory(service=service, severity="critical", first_seen_at=at(1, 2), fixed_at=at(1, 16))  # fixed at the day's end
    VulnerabilityFactory(service=service, severity="high", first_seen_at=at(1, 1))
    VulnerabilityFactory(service=service, severity="critical", first_seen_at=at(1, 16, 1))  # found the next day
    ScanReportFactory(service=other_service, scanned_at=at(1, 12))

    # acme: the critical first seen on Jan 3 was still open at Jan 16 00:00: 13 days; globex: scanned, none open.
    assert values("critical-cve-age") == {"comp-acme": 13.0, "comp-globex": 0.0}


def test_critical_cve_age_has_no_value_before_any_vulnerability_scan(computed_kpis, service):
    ScanReportFactory(service=service, scanner="gitleaks", scanned_at=at(1, 1))
    ScanReportFactory(service=service, scanned_at=at(1, 16))

    assert values("critical-cve-age") == {}


def test_vuln_sla_compliance_counts_what_was_due_or_fixed_in_the_30_days(computed_kpis, service, other_service):
    # Deadlines: critical 7 days, high 30, medium 90, low 180 after first seen; the window is Dec 17 - Jan 16.
    VulnerabilityFactory(service=service, severity="critical", first_seen_at=at(1, 1), fixed_at=at(1, 5))  # within
    VulnerabilityFactory(service=service, severity="critical", first_seen_at=at(1, 1), fixed_at=at(1, 8))  # on the deadline
    VulnerabilityFactory(service=service, severity="critical", first_seen_at=at(1, 1), fixed_at=at(1, 10))  # late
    VulnerabilityFactory(service=service, severity="critical", first_seen_at=at(1, 2))  # due Jan 9, still open
    VulnerabilityFactory(service=service, severity="high", first_seen_at=at(1, 10), fixed_at=at(1, 12))  # fixed early
    VulnerabilityFactory(service=service, severity="low", first_seen_at=at(7, 19))  # due Jan 15, still open
    VulnerabilityFactory(service=service, severity="high", first_seen_at=at(1, 10))  # due Feb 9: not yet counted
    VulnerabilityFactory(service=service, severity="medium", first_seen_at=at(11, 1), fixed_at=at(11, 20))  # before the window
    VulnerabilityFactory(service=other_service, severity="medium", first_seen_at=at(1, 1))  # due in March

    assert values("vuln-sla-compliance") == {"comp-acme": 50.0}  # 3 of 6
    assert vuln_sla_compliance_evidence(service.domain.company, at(1, 1), at(1, 9)) == {
        "vulnerabilities_due": 3, "remediated_within_sla": 2, "vuln_sla_compliance_pct": pytest.approx(200 / 3),
    }


def test_secret_scan_violations_count_secrets_open_at_some_moment_of_the_day(computed_kpis, service, other_service):
    ScanReportFactory(service=service, scanner="gitleaks", scanned_at=at(1, 10))
    SecretFindingFactory(service=service, detected_at=at(1, 10))  # still open
    SecretFindingFactory(service=service, detected_at=at(1, 15, 10), resolved_at=at(1, 15, 18))  # found and resolved that day
    SecretFindingFactory(service=service, detected_at=at(1, 12), resolved_at=at(1, 14))
    SecretFindingFactory(service=service, detected_at=at(1, 12), resolved_at=at(1, 15))  # resolved as the day began
    SecretFindingFactory(service=service, detected_at=at(1, 16, 3))
    ScanReportFactory(service=other_service, scanner="gitleaks", scanned_at=at(1, 15, 23))
    ScanReportFactory(service=ServiceFactory(), scanned_at=at(1, 1))  # a Trivy report says nothing about secrets

    assert values("secret-scan-violations") == {"comp-acme": 2.0, "comp-globex": 0.0}


def test_the_values_feed_the_seeds_security_formula(computed_kpis, service):
    ScanReportFactory(service=service, scanned_at=at(1, 1))
    VulnerabilityFactory(service=service, severity="critical", first_seen_at=at(1, 12))

    [age] = values("critical-cve-age").values()
    assert age == 4.0
    assert SCORE_FORMULAS["critical-cve-age"].score(age) == 60.0
    assert critical_cve_age_evidence(service.domain.company, at(1, 15), at(1, 16)) == {
        "open_critical": 1, "oldest_critical_first_seen_at": at(1, 12), "critical_cve_age_days": 4.0,
    }
