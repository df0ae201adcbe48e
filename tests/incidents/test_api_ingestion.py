import json

import pytest
from django.contrib.auth.models import Group, Permission
from rest_framework.test import APIClient

from incidents.models import Alert, Incident, Milestone, PhaseTransition, RunbookExecution
from kpis.roles import DATA_SOURCES
from tests.companyos.factories import UserFactory
from tests.helpers import FIXTURES_DIR, client_for
from tests.incidents.factories import IncidentFactory
from tests.tenancy.factories import CompanyFactory, DomainFactory, ServiceFactory


def data_source(*permissions):
    """A user standing for a data source, with the given add permissions."""
    user = UserFactory(is_staff=False)
    user.user_permissions.add(*Permission.objects.filter(codename__in=permissions))
    return user


@pytest.fixture
def acme(db):
    company = CompanyFactory(slug="comp-acme")
    ServiceFactory(slug="web", domain=DomainFactory(company=company, slug="frontend"))
    return company


def alert(**fields):
    return {
        "company": "comp-acme", "asset": "web-1", "signature": "disk_full", "severity": "high",
        "issued_at": "2024-01-15T10:00:00Z", "source": "cloudwatch", "external_id": "cw-1", **fields,
    }


class TestAlerts:
    def test_a_batch_of_alerts_is_stored_and_a_resend_creates_nothing(self, acme):
        client = client_for(data_source("add_alert"))
        batch = [alert(external_id=f"cw-{n}", service="web") for n in range(3)]
        first = client.post("/api/alerts/", batch, format="json")
        assert first.status_code == 201, first.json()
        assert first.json() == {"received": 3, "created": 3}
        again = client.post("/api/alerts/", batch, format="json")
        assert again.json() == {"received": 3, "created": 0}
        assert Alert.objects.filter(company=acme, service__slug="web").count() == 3

    def test_one_bad_alert_refuses_the_whole_batch_naming_its_position_and_field(self, acme):
        client = client_for(data_source("add_alert"))
        response = client.post("/api/alerts/", [alert(), alert(external_id="cw-2", company="comp-nowhere")], format="json")
        assert response.status_code == 400
        assert response.json()["error"]["message"] == "[1].company: No company has the slug 'comp-nowhere'."
        assert not Alert.objects.exists()

    def test_writing_needs_a_token_with_write_permission(self, acme):
        reader = client_for(UserFactory(is_staff=False))
        assert reader.post("/api/alerts/", alert(), format="json").status_code == 403
        session = APIClient()
        session.force_login(data_source("add_alert"))
        refused = session.post("/api/alerts/", alert(), format="json")
        assert refused.status_code == 403
        assert "token" in refused.json()["error"]["message"]
        assert not Alert.objects.exists()


class TestAlertmanagerWebhook:
    def payload(self):
        return json.loads((FIXTURES_DIR / "alertmanager_v4_firing.json").read_text())

    def test_the_webhook_maps_labels_and_a_resend_creates_nothing(self, acme):
        client = client_for(data_source("add_alert"))
        first = client.post("/api/webhooks/alertmanager/", self.payload(), format="json")
        assert first.status_code == 200, first.json()
        assert first.json() | {"source_events": []} == {
            "received": 2, "created": 2, "ended": 0, "unassigned": 0, "source_events": [],
        }
        stored = Alert.objects.order_by("issued_at")
        assert [(a.asset, a.signature, a.severity, a.service.slug) for a in stored] == [
            ("web-1:9100", "DiskFull", "critical", "web"),
            ("web-2:9100", "DiskFull", "critical", "web"),
        ]
        assert stored[0].payload["fingerprint"] == "c4a5b2d0e9f81a37"
        resolved = self.payload()
        resolved["status"] = "resolved"
        again = client.post("/api/webhooks/alertmanager/", resolved, format="json")
        assert (again.json()["received"], again.json()["created"]) == (2, 0)

    def test_an_unknown_version_or_company_is_a_400_naming_it(self, acme):
        client = client_for(data_source("add_alert"))
        old = {**self.payload(), "version": "3"}
        assert client.post("/api/webhooks/alertmanager/", old, format="json").json()["error"]["message"].startswith(
            "version:"
        )
        elsewhere = client.post("/api/webhooks/alertmanager/?company=comp-nowhere", self.payload(), format="json")
        assert elsewhere.status_code == 400
        assert elsewhere.json()["error"]["message"] == "company: No company has the slug 'comp-nowhere'."


class TestIncidentsAndTheirTimeline:
    def test_an_incident_is_created_then_updated_by_its_external_id(self, acme):
        client = client_for(data_source("add_incident"))
        body = {
            "company": "comp-acme", "service": "web", "external_id": "PD-1", "title": "Checkout down",
            "severity": "P1", "detected_at": "2024-01-15T10:00:00Z",
        }
        assert client.post("/api/incidents/", body, format="json").status_code == 201
        resolved = client.post(
            "/api/incidents/", {**body, "status": "resolved", "resolved_at": "2024-01-15T11:00:00Z"}, format="json"
        )
        assert resolved.status_code == 200
        assert Incident.objects.get(external_id="PD-1").status == "resolved"

    def test_an_incident_resolved_before_it_was_detected_is_refused(self, acme):
        client = client_for(data_source("add_incident"))
        response = client.post(
            "/api/incidents/",
            {"company": "comp-acme", "external_id": "PD-2", "title": "x", "severity": "P2",
             "detected_at": "2024-01-15T10:00:00Z", "resolved_at": "2024-01-15T09:00:00Z"},
            format="json",
        )
        assert response.status_code == 400
        assert response.json()["error"]["message"] == (
            "resolved_at: 2024-01-15T09:00:00+00:00 is before detected_at (2024-01-15T10:00:00+00:00)."
        )
        assert not Incident.objects.exists()

    def test_phases_and_milestones_are_recorded_once_per_key(self, acme):
        incident = IncidentFactory(company=acme, service=None)
        client = client_for(data_source("add_phasetransition", "add_milestone", "add_surveyresponse"))
        for _ in range(2):
            client.post(f"/api/incidents/{incident.pk}/phases/", {"phase": "gather", "entered_at": "2024-01-15T10:05:00Z"}, format="json")
            client.post(
                f"/api/incidents/{incident.pk}/milestones/",
                {"name": "First update", "committed_eta": "2024-01-15T10:30:00Z", "delivered_at": "2024-01-15T10:25:00Z"},
                format="json",
            )
        assert PhaseTransition.objects.filter(incident=incident).count() == 1
        assert Milestone.objects.filter(incident=incident).count() == 1
        bad_score = client.post(
            f"/api/incidents/{incident.pk}/survey-responses/",
            {"respondent": "cfo@example.com", "score": 6, "submitted_at": "2024-01-16T09:00:00Z"},
            format="json",
        )
        assert bad_score.status_code == 400
        assert bad_score.json()["error"]["message"].startswith("score:")

    def test_a_runbook_execution_is_keyed_by_its_execution_id(self, acme):
        client = client_for(data_source("add_runbookexecution"))
        body = {
            "company": "comp-acme", "runbook_id": "SSM-DiskCleanup-001", "execution_id": "exec-1",
            "started_at": "2024-01-15T10:00:00Z", "finished_at": "2024-01-15T10:02:00Z", "success": True,
        }
        assert client.post("/api/runbook-executions/", body, format="json").status_code == 201
        assert client.post("/api/runbook-executions/", body, format="json").status_code == 200
        assert RunbookExecution.objects.count() == 1


def test_a_member_of_data_sources_may_post_alerts_with_a_token(acme):
    source = UserFactory(is_staff=False)
    source.groups.add(Group.objects.get(name=DATA_SOURCES))
    assert client_for(source).post("/api/alerts/", alert(), format="json").status_code == 201
