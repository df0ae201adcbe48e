"""
Writes of company A's data source that name company B or its objects: each is a 400 naming the field (a 404 for B's
incident in the path), and B's rows stay as they were.
"""
import pytest

from incidents.models import RunbookExecution
from kpis.models import Observation
from tests.helpers import client_for
from tests.tenancy.helpers import INGESTED_KPI, tenant_rows

pytestmark = pytest.mark.separate_tenants

MOMENT = "2024-01-16T10:00:00Z"


def refused(response, message, status=400):
    assert response.status_code == status, response.content[:400]
    assert response.json()["error"]["message"] == message


@pytest.fixture
def feed(world):
    return client_for(world.feed)


@pytest.fixture
def globex_unchanged(world):
    before = tenant_rows(world.globex.company)
    yield
    assert tenant_rows(world.globex.company) == before


def test_a_runbook_run_with_another_companys_execution_id_is_a_run_of_its_own_and_leaves_that_run_alone(
    world, feed, globex_unchanged
):
    execution_id = world.globex.execution.execution_id
    run = {"company": "comp-acme", "runbook_id": "SSM-DiskCleanup-001", "execution_id": execution_id,
           "started_at": MOMENT, "success": False}
    response = feed.post("/api/runbook-executions/", run, format="json")

    assert (response.status_code, response.json()["company"]) == (201, "comp-acme")
    runs = RunbookExecution.objects.filter(execution_id=execution_id).order_by("company__slug")
    assert [(each.company, each.incident, each.success) for each in runs] == [
        (world.acme.company, None, False),
        (world.globex.company, world.globex.incident, True),
    ]


def test_a_runbook_run_is_looked_up_within_its_company(world, feed):
    own = world.acme.execution
    run = {"company": "comp-acme", "runbook_id": own.runbook_id, "execution_id": own.execution_id,
           "started_at": MOMENT, "success": False, "incident": world.acme.incident.pk}
    response = feed.post("/api/runbook-executions/", run, format="json")
    assert response.status_code == 200
    assert RunbookExecution.objects.get(pk=own.pk).success is False


def test_a_runbook_run_naming_another_companys_incident_is_refused(world, feed, globex_unchanged):
    incident = world.globex.incident.pk
    run = {"company": "comp-acme", "runbook_id": "r", "execution_id": "acme-exec-2", "started_at": MOMENT,
           "success": True, "incident": incident}
    refused(feed.post("/api/runbook-executions/", run, format="json"), f"incident: 'comp-acme' has no incident {incident}.")
    assert not RunbookExecution.objects.filter(execution_id="acme-exec-2").exists()


def test_an_observation_naming_another_companys_incident_is_refused(world, feed, globex_unchanged):
    incident = world.globex.incident.pk
    observation = {"kpi": INGESTED_KPI, "observed_at": MOMENT, "value": 97}
    refused(feed.post("/api/observations/", [{**observation, "company": "comp-acme", "incident": incident}], format="json"),
            f"[0].incident: 'comp-acme' has no incident {incident}.")
    refused(feed.post("/api/observations/", [observation, {**observation, "incident": incident}], format="json"),
            f"[1].incident: There is no incident {incident}.")
    assert not Observation.objects.filter(value=97).exists()


def test_an_observation_of_a_service_outside_its_domain_is_refused(world, feed):
    other_domain = type(world.acme.domain).objects.create(company=world.acme.company, slug="acme-data", name="Data")
    observation = {"kpi": INGESTED_KPI, "observed_at": MOMENT, "value": 97, "company": "comp-acme",
                   "domain": other_domain.slug, "service": world.acme.service.slug}
    refused(feed.post("/api/observations/", observation, format="json"),
            "[0].service: The domain 'acme-data' has no service 'acme-gateway'.")
    observation["domain"] = world.acme.domain.slug
    assert feed.post("/api/observations/", observation, format="json").status_code == 201


@pytest.mark.parametrize("path, body", [
    ("/api/observations/", {"kpi": INGESTED_KPI, "observed_at": MOMENT, "value": 1, "company": "comp-globex"}),
    ("/api/alerts/", {"company": "comp-globex", "asset": "web-1", "signature": "disk_full", "severity": "high",
                      "issued_at": MOMENT, "source": "test"}),
])
def test_a_data_source_writes_only_into_its_companies(world, feed, globex_unchanged, path, body):
    refused(feed.post(path, body, format="json"), "[0].company: No company has the slug 'comp-globex'.")


@pytest.mark.parametrize("path, body", [
    ("/api/incidents/", {"company": "comp-globex", "external_id": "x", "title": "x", "severity": "P2", "detected_at": MOMENT}),
    ("/api/runbook-executions/", {"company": "comp-globex", "runbook_id": "r", "execution_id": "x", "started_at": MOMENT,
                                  "success": True}),
    ("/api/webhooks/alertmanager/?company=comp-globex", {"version": "4", "alerts": []}),
])
def test_every_ingestion_refuses_another_company(world, feed, globex_unchanged, path, body):
    refused(feed.post(path, body, format="json"), "company: No company has the slug 'comp-globex'.")


def test_uploads_refuse_another_company(world, feed, globex_unchanged):
    refused(feed.post("/api/imports/billing/?company=comp-globex", "month,customer_id\n", content_type="text/csv"),
            "company: No company has the slug 'comp-globex'.")
    refused(feed.post("/api/scans/trivy/?company=comp-globex&service=globex-gateway", "{}", content_type="application/json"),
            "company: No company has the slug 'comp-globex'.")


@pytest.mark.parametrize("timeline, body", [
    ("phases", {"phase": "gather", "entered_at": MOMENT}),
    ("milestones", {"name": "update", "committed_eta": MOMENT}),
    ("survey-responses", {"respondent": "cfo@example.com", "score": 5, "submitted_at": MOMENT}),
])
def test_another_companys_incident_takes_no_timeline(world, feed, globex_unchanged, timeline, body):
    response = feed.post(f"/api/incidents/{world.globex.incident.pk}/{timeline}/", body, format="json")
    assert response.status_code == 404
    assert feed.post(f"/api/incidents/{world.acme.incident.pk}/{timeline}/", body, format="json").status_code == 201
