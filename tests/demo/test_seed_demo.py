import hashlib
import statistics

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.models import Avg, Count, F, Q

from demo.incidents import MEASURED_KPIS
from demo.period import demo_period
from incidents import services
from incidents.choices import Severity
from incidents.models import Alert, Incident, Milestone, PatchComplianceSnapshot, RunbookExecution, SurveyResponse
from tenancy.models import Company
from kpis.calculators import CALCULATORS
from kpis.catalogue import load_catalogue
from kpis.choices import ObservationSource
from kpis.models import KpiDefinition, Observation

pytestmark = pytest.mark.django_db

SMALL = ["--companies", "2", "--incidents", "300", "--alerts", "3000", "--days", "10"]


def seed(*args, capsys=None):
    call_command("seed_demo", *SMALL, *args)
    return capsys.readouterr().out if capsys else None


def fingerprint():
    """A digest of every reported incident and raw alert, independent of database ids."""
    incidents = Incident.objects.order_by("company__slug", "external_id").values_list(
        "company__slug", "external_id", "title", "severity", "status", "detected_at", "resolved_at", "automation_used", "runbook_id"
    )
    alerts = Alert.objects.order_by("company__slug", "external_id").values_list(
        "company__slug", "external_id", "asset", "signature", "severity", "issued_at", "source", "service__slug"
    )
    return hashlib.sha256(repr((list(incidents), list(alerts))).encode()).hexdigest()


def test_seed_demo_makes_the_named_companies_with_the_health_model_services():
    seed()

    assert list(Company.objects.values_list("slug", flat=True)) == ["comp-acme", "comp-globex"]
    acme = Company.objects.get(slug="comp-acme")
    services_by_domain = {
        domain.slug: sorted(domain.services.values_list("slug", flat=True)) for domain in acme.domains.all()
    }
    assert services_by_domain == {
        "data-platform": ["ingest", "neo4j"],
        "api-gateway": ["auth", "gateway"],
        "frontend": ["apollo-client", "web"],
    }
    assert Incident.objects.count() == 300
    assert Alert.objects.count() == 3000
    assert not Alert.objects.filter(incident__isnull=False).exists()


def test_seed_demo_data_lies_in_the_last_days_ending_yesterday():
    seed()
    start, end = demo_period(10)

    assert not Incident.objects.filter(Q(detected_at__lt=start) | Q(detected_at__gte=end)).exists()
    assert not Alert.objects.filter(Q(issued_at__lt=start) | Q(issued_at__gte=end)).exists()
    assert PatchComplianceSnapshot.objects.filter(company__slug="comp-acme").count() == 10


def test_seeded_alerts_and_observations_land_in_their_month_partitions():
    load_catalogue(actor=None)
    seed()
    with connection.cursor() as cursor:
        for table in ("incidents_alert", "kpis_observation"):
            cursor.execute(f"SELECT COUNT(*) FROM {table}_default")
            assert cursor.fetchone()[0] == 0, table
    assert Alert.objects.exists() and Observation.objects.exists()


def test_the_same_seed_gives_the_same_data_and_another_seed_does_not():
    seed("--seed", "7")
    first = fingerprint()

    seed("--seed", "7", "--reset")
    assert fingerprint() == first
    assert Incident.objects.count() == 300

    seed("--seed", "8", "--reset")
    assert fingerprint() != first


def test_seeding_again_does_nothing_and_says_so(capsys):
    seed(capsys=capsys)
    before = fingerprint()

    output = seed(capsys=capsys)

    assert "already have data" in output
    assert fingerprint() == before
    assert Alert.objects.count() == 3000


def test_correlating_the_seeded_alerts_reduces_noise_by_40_to_70_percent():
    seed()

    services.correlate_alerts()

    for company in Company.objects.all():
        raw_alerts = Alert.objects.filter(company=company).count()
        created = Incident.objects.filter(company=company).exclude(correlation_key="").count()
        assert 0.40 <= 1 - created / raw_alerts <= 0.70, company.slug


def test_seeded_incidents_have_the_seed_shape():
    seed("--incidents", "2000")
    reported = Incident.objects.filter(correlation_key="", resolved_at__isnull=False)

    def mttr(**filters):
        return statistics.mean((i.resolved_at - i.detected_at).total_seconds() / 60 for i in reported.filter(**filters))

    shares = dict(Incident.objects.values_list("severity").annotate(count=Count("id")))
    assert shares[Severity.P1] < shares[Severity.P2] < shares[Severity.P3]
    assert 3 <= mttr(automation_used=True) <= 15
    assert 30 <= mttr(automation_used=False) <= 60
    assert 0.15 <= reported.filter(automation_used=True).count() / reported.count() <= 0.35
    assert set(reported.filter(automation_used=True).values_list("runbook_id", flat=True)) == {
        "SSM-DiskCleanup-001", "SSM-ServiceRestart-002", "SSM-LogRotation-003", "SSM-CacheClear-004",
    }
    assert RunbookExecution.objects.filter(success=True).count() == reported.filter(automation_used=True).count()
    delivered = Milestone.objects.filter(delivered_at__isnull=False)
    assert 0.85 <= delivered.filter(delivered_at__lte=F("committed_eta")).count() / delivered.count() <= 0.95
    assert 4.0 <= SurveyResponse.objects.aggregate(mean=Avg("score"))["mean"] <= 4.5


def test_demo_observations_cover_only_the_kpis_no_connector_feeds(capsys):
    load_catalogue(actor=None)

    output = seed(capsys=capsys)

    demo = Observation.objects.filter(source=ObservationSource.DEMO)
    assert set(demo.values_list("kpi__slug", flat=True)) == set(MEASURED_KPIS)
    assert not set(MEASURED_KPIS) & set(CALCULATORS)
    assert not KpiDefinition.objects.filter(slug__in=MEASURED_KPIS).exclude(promql="").exists()
    # 2 companies x 10 days x 8 company KPIs
    assert demo.count() == 2 * 10 * 8
    assert not demo.filter(kpi__units="percent").filter(Q(value__lt=0) | Q(value__gt=100)).exists()
    assert "No demo observations" not in output


def test_demo_observations_skip_kpis_missing_from_the_registry_with_a_note(capsys):
    output = seed(capsys=capsys)

    assert "No demo observations for 'nps': it is not in the KPI registry" in output
    assert not Observation.objects.exists()


@pytest.mark.parametrize(
    "model",
    ["incidents/incident", "incidents/alert", "incidents/runbookexecution", "incidents/patchcompliancesnapshot",
     "tenancy/company", "tenancy/service"],
)
def test_admin_lists_of_seeded_data_take_a_fixed_number_of_queries(client, superuser, django_assert_max_num_queries, model):
    seed()
    client.force_login(superuser)

    with django_assert_max_num_queries(12):
        response = client.get(f"/admin/{model}/")

    assert response.status_code == 200


def test_an_incident_page_shows_its_timeline_milestones_and_surveys(client, superuser):
    seed()
    client.force_login(superuser)
    incident = Incident.objects.filter(automation_used=False, survey_responses__isnull=False).first()

    page = client.get(f"/admin/incidents/incident/{incident.pk}/change/").content.decode()

    assert "gather" in page and "initial-update" in page and "stakeholder-1@" in page
