"""
The connectors' KPI history the SQLite comparison builds (nine days of GitHub and scanner reports) and what
the calculators make of it; imported by the comparison's manage.py shell on SQLite too.
"""
import datetime

from kpis.calculators import EVIDENCE
from kpis.choices import ObservationSource
from kpis.models import Observation
from kpis.observations import compute_observations
from tenancy.models import Company
from tests.delivery.factories import BuildRunFactory, ChangeFactory, DeploymentFactory
from tests.incidents.factories import IncidentFactory
from tests.security.factories import ScanReportFactory, SecretFindingFactory, VulnerabilityFactory
from tests.tenancy.factories import CompanyFactory, ServiceFactory

SLUGS = [
    "build-success-rate", "change-failure-rate", "critical-cve-age", "deployment-frequency", "lead-time-for-changes",
    "secret-scan-violations", "vuln-sla-compliance",
]
SINCE, UNTIL = datetime.date(2024, 1, 8), datetime.date(2024, 1, 17)


def at(month, day, hour=0, minute=0):
    return datetime.datetime(2024 if month < 7 else 2023, month, day, hour, minute, tzinfo=datetime.timezone.utc)


def deployed(service, finished_at, **fields):
    return DeploymentFactory(service=service, created_at=finished_at - datetime.timedelta(minutes=10), finished_at=finished_at, **fields)


def build_history():
    """Nine days of GitHub and scanner reports of three companies, with the cases the formulas name."""
    payments = ServiceFactory(domain__company=CompanyFactory(slug="comp-acme"))
    search = ServiceFactory(domain=payments.domain)
    quiet = ServiceFactory(domain__company=CompanyFactory(slug="comp-quiet"))

    deployed(payments, at(1, 8, 10))
    IncidentFactory(service=payments, severity="P1", detected_at=at(1, 9, 10))  # exactly 24 h later: the deployment's
    deployed(payments, at(1, 10, 10))
    IncidentFactory(service=payments, severity="P2", detected_at=at(1, 10, 12))
    deployed(payments, at(1, 11, 10))
    deployed(payments, at(1, 11, 11))  # the latest before the next incident
    IncidentFactory(service=payments, severity="P1", detected_at=at(1, 11, 11, 30))
    deployed(payments, at(1, 12, 11), state="failure")
    deployed(payments, at(1, 12, 12), environment="staging", production=False)
    deployed(search, at(1, 13, 9))
    IncidentFactory(service=search, severity="P1", detected_at=at(1, 14, 9, 1))  # 24 h and a minute later: not its
    deployed(payments, at(1, 15, 8))
    IncidentFactory(service=payments, severity="P3", detected_at=at(1, 15, 8, 30))
    DeploymentFactory(service=quiet, created_at=at(1, 1, 9), state="in_progress")  # deploys through GitHub, nothing finished

    ChangeFactory(service=payments, first_commit_at=at(1, 9, 6), merged_at=at(1, 9, 9))  # ships on the 10th
    ChangeFactory(service=payments, first_commit_at=at(1, 10, 8), merged_at=at(1, 10, 10, 5))  # on the 11th
    ChangeFactory(service=search, first_commit_at=at(1, 12, 20), merged_at=at(1, 13, 8))
    ChangeFactory(service=payments, first_commit_at=at(1, 14), merged_at=at(1, 14, 12))
    ChangeFactory(service=payments, first_commit_at=at(1, 15, 9), merged_at=at(1, 15, 10))  # not deployed yet

    for day, conclusion in enumerate(["success", "failure", "success", "cancelled", "success", "timed_out", "success"]):
        BuildRunFactory(service=payments, conclusion=conclusion, completed_at=at(1, 9 + day, 14))

    ScanReportFactory(service=payments, scanned_at=at(1, 5))
    ScanReportFactory(service=quiet, scanned_at=at(1, 10))  # scanned, nothing found
    VulnerabilityFactory(service=payments, severity="critical", first_seen_at=at(1, 3), fixed_at=at(1, 9))
    VulnerabilityFactory(service=payments, severity="critical", first_seen_at=at(1, 6, 7))  # still open
    VulnerabilityFactory(service=payments, severity="critical", first_seen_at=at(1, 12), fixed_at=at(1, 14))
    VulnerabilityFactory(service=payments, severity="high", first_seen_at=at(12, 20), fixed_at=at(1, 12))
    VulnerabilityFactory(service=payments, severity="low", first_seen_at=at(7, 19))  # due on the 15th, open
    ScanReportFactory(service=payments, scanner="gitleaks", scanned_at=at(1, 9))
    SecretFindingFactory(service=payments, detected_at=at(1, 9), resolved_at=at(1, 11))
    SecretFindingFactory(service=payments, detected_at=at(1, 13, 5))


def results():
    """Each KPI's values over [SINCE, UNTIL) by company and day, and the numbers behind each company's last value."""
    values, evidence = {}, {}
    end = datetime.datetime.combine(UNTIL, datetime.time(), tzinfo=datetime.timezone.utc)
    for slug in SLUGS:
        compute_observations(slug, since=SINCE, until=UNTIL, source=ObservationSource.BACKFILL, run="sqlite")
        observations = Observation.objects.filter(kpi__slug=slug).order_by("company__slug", "observed_at")
        values[slug] = [
            [company, f"{observed_at:%Y-%m-%d}", round(value, 9)]
            for company, observed_at, value in observations.values_list("company__slug", "observed_at", "value")
        ]
        for company in Company.objects.order_by("slug"):
            figures = EVIDENCE[slug].figures(company, end - EVIDENCE[slug].window, end)
            evidence[f"{slug} {company.slug}"] = figures and {
                name: figure.isoformat() if isinstance(figure, datetime.datetime) else round(figure, 9) if isinstance(figure, float) else figure
                for name, figure in figures.items()
            }
    return {"values": values, "evidence": evidence}
