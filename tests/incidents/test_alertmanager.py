"""Alertmanager's webhook as operators configure it: Bearer tokens, groups of several companies, resolved alerts."""
import datetime
import json

import pytest
from django.contrib.auth.models import Permission
from rest_framework.test import APIClient

from connectors.choices import EventSource, EventStatus
from connectors.models import SourceEvent
from incidents.models import Alert, Incident
from incidents.services import correlate_alerts
from tests.companyos.factories import UserFactory
from tests.helpers import client_for, stored
from tests.tenancy.factories import CompanyFactory, DomainFactory, ServiceFactory

pytestmark = pytest.mark.django_db

URL = "/api/webhooks/alertmanager/"
START = datetime.datetime(2024, 1, 15, 10, 0, tzinfo=datetime.timezone.utc)
FIRING_END = "0001-01-01T00:00:00Z"


def at(minutes):
    return (START + datetime.timedelta(minutes=minutes)).isoformat().replace("+00:00", "Z")


def alert(fingerprint, *, starts=0, ends=None, **labels):
    """One alert as Alertmanager sends it: firing, or resolved `ends` minutes after START."""
    return {
        "status": "firing" if ends is None else "resolved",
        "labels": {"alertname": "DiskFull", "severity": "critical", **labels},
        "annotations": {"summary": "Disk almost full"},
        "startsAt": at(starts),
        "endsAt": FIRING_END if ends is None else at(ends),
        "generatorURL": "http://prometheus:9090/graph",
        "fingerprint": fingerprint,
    }


def notification(*alerts, **fields):
    """A version 4 notification of a route grouped by alertname alone, as Alertmanager builds it."""
    labels = [a["labels"] for a in alerts]
    common = {name: value for name, value in labels[0].items() if all(other.get(name) == value for other in labels)}
    return {
        "version": "4", "receiver": "companyos", "groupKey": '{}:{alertname="DiskFull"}', "truncatedAlerts": 0,
        "status": "resolved" if all(a["status"] == "resolved" for a in alerts) else "firing",
        "groupLabels": {"alertname": "DiskFull"}, "commonLabels": common, "commonAnnotations": {},
        "externalURL": "http://alertmanager:9093", "alerts": list(alerts), **fields,
    }


@pytest.fixture
def sender(db):
    """Alertmanager's token: a data source that may post alerts (a member of every company, see conftest)."""
    user = UserFactory(username="alertmanager", is_staff=False)
    user.user_permissions.add(Permission.objects.get(codename="add_alert"))
    return client_for(user)


@pytest.fixture
def acme(db):
    company = CompanyFactory(slug="comp-acme")
    ServiceFactory(slug="web", domain=DomainFactory(company=company, slug="frontend"))
    return company


@pytest.fixture
def globex(db):
    return CompanyFactory(slug="comp-globex")


def events():
    return SourceEvent.objects.filter(source=EventSource.ALERTMANAGER).order_by("pk")


class TestAuthentication:
    def test_alertmanagers_default_bearer_scheme_and_the_token_scheme_both_authenticate(self, sender, acme):
        key = sender._credentials["HTTP_AUTHORIZATION"].split()[1]
        for scheme in ("Bearer", "Token", "bearer"):
            client = APIClient()
            client.credentials(HTTP_AUTHORIZATION=f"{scheme} {key}")
            response = client.post(URL, notification(alert(f"fp-{scheme}", company="comp-acme")), format="json")
            assert response.status_code == 200, (scheme, response.json())
        assert Alert.objects.filter(company=acme).count() == 3

    def test_a_wrong_bearer_token_is_a_401(self, acme):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION="Bearer not-a-token")
        response = client.post(URL, notification(alert("fp-1", company="comp-acme")), format="json")
        assert response.status_code == 401
        assert not Alert.objects.exists() and not events().exists()


class TestCompanies:
    def test_a_group_of_two_companies_is_split_by_their_labels(self, sender, acme, globex):
        body = notification(alert("fp-a", company="comp-acme", instance="web-1:9100"),
                            alert("fp-g", company="comp-globex", instance="db-1:9100"))

        response = sender.post(URL, body, format="json")

        assert response.status_code == 200, response.json()
        assert response.json()["created"] == 2 and response.json()["unassigned"] == 0
        assert {(a.company.slug, a.asset) for a in Alert.objects.all()} == {("comp-acme", "web-1:9100"), ("comp-globex", "db-1:9100")}
        kept = list(events())
        assert [(event.company.slug, event.status) for event in kept] == [("comp-acme", "processed"), ("comp-globex", "processed")]
        assert [len(event.payload["alerts"]) for event in kept] == [1, 1]
        assert response.json()["source_events"] == [event.pk for event in kept]

    def test_alerts_without_a_company_are_kept_as_a_failed_event_and_the_rest_stored(self, sender, acme):
        body = notification(alert("fp-a", company="comp-acme"), alert("fp-x", instance="lost-1"))

        response = sender.post(URL, body, format="json")

        assert response.status_code == 200
        assert response.json()["unassigned"] == 1 and response.json()["created"] == 1
        assert list(Alert.objects.values_list("company__slug", flat=True)) == ["comp-acme"]
        failed = events().get(status=EventStatus.FAILED)
        assert failed.company is None and failed.payload["alerts"][0]["fingerprint"] == "fp-x"
        assert "no 'company' label and the URL has no ?company=" in failed.detail

    def test_the_url_names_the_company_of_unlabelled_alerts(self, sender, acme):
        response = sender.post(f"{URL}?company=comp-acme", notification(alert("fp-x", instance="web-9")), format="json")
        assert response.status_code == 200 and response.json()["created"] == 1
        assert Alert.objects.get().company == acme

    def test_a_label_contradicting_the_url_is_a_400_naming_both_and_kept(self, sender, acme, globex):
        body = notification(alert("fp-a", company="comp-acme"), alert("fp-g", company="comp-globex"))

        response = sender.post(f"{URL}?company=comp-acme", body, format="json")

        assert response.status_code == 400
        message = response.json()["error"]["message"]
        assert message.startswith("alerts[1].labels.company:") and "comp-globex" in message and "comp-acme" in message
        assert not Alert.objects.exists()
        assert events().get().status == EventStatus.FAILED

    def test_a_wrong_shape_or_not_json_is_a_400_and_kept_as_failed(self, sender, acme):
        wrong_shape = sender.post(f"{URL}?company=comp-acme", {"version": "4", "alerts": "x"}, format="json")
        not_json = sender.post(URL, b"{not json\x00", content_type="application/json")

        assert (wrong_shape.status_code, not_json.status_code) == (400, 400)
        kept = list(events())
        assert [event.status for event in kept] == [EventStatus.FAILED, EventStatus.FAILED]
        assert "alerts" in kept[0].detail and json.loads(kept[0].raw) == {"version": "4", "alerts": "x"}
        assert kept[1].raw == "{not json\ufffd" and kept[1].detail.startswith("body: JSON parse error")

    @pytest.mark.separate_tenants
    def test_a_label_naming_a_company_the_token_does_not_write_into_is_refused(self, acme, globex):
        user = UserFactory(is_staff=False)
        user.user_permissions.add(Permission.objects.get(codename="add_alert"))
        acme.memberships.create(user=user)
        body = notification(alert("fp-a", company="comp-acme"), alert("fp-g", company="comp-globex"))

        response = client_for(user).post(URL, body, format="json")

        assert response.status_code == 400
        assert response.json()["error"]["message"] == "alerts[1].labels.company: No company has the slug 'comp-globex'."
        assert not Alert.objects.exists()


class TestAssets:
    @pytest.mark.parametrize("labels, asset, service", [
        ({"instance": "web-1:9100", "service": "web", "job": "node"}, "web-1:9100", "web"),
        ({"service": "web", "job": "node"}, "web", "web"),
        ({"pod": "api-7d9f", "job": "kubernetes-pods"}, "api-7d9f", None),
        # The portal's own rules: a KPI of a company (max by (company)) or of a service, scraped from the portal.
        ({"kpi": "slo-attainment", "dimension": "reliability"}, "slo-attainment", None),
        ({"kpi": "slo-attainment", "service": "web", "instance": "portal:8000"}, "web", "web"),
        ({}, "comp-acme", None),
    ])
    def test_the_asset_and_service_come_from_the_labels(self, sender, acme, labels, asset, service):
        sender.post(URL, notification(alert("fp-1", company="comp-acme", **labels)), format="json")
        stored_alert = Alert.objects.get()
        assert (stored_alert.asset, stored_alert.service and stored_alert.service.slug) == (asset, service)


class TestResolution:
    def test_resolved_alerts_end_and_their_incident_resolves_at_the_last_end(self, sender, acme):
        firing = [alert("fp-1", company="comp-acme", instance="web-1"), alert("fp-2", starts=2, company="comp-acme", instance="web-1")]
        sender.post(URL, notification(*firing), format="json")
        correlate_alerts(company=acme, until=START + datetime.timedelta(hours=1))
        incident = Incident.objects.get()
        assert incident.status == "open"

        first_ends = sender.post(URL, notification(alert("fp-1", ends=10, company="comp-acme", instance="web-1")), format="json")
        assert first_ends.json()["ended"] == 1
        assert stored(incident).status == "open"  # fp-2 still fires

        sender.post(URL, notification(alert("fp-2", starts=2, ends=25, company="comp-acme", instance="web-1")), format="json")

        incident = stored(incident)
        assert (incident.status, incident.resolved_at) == ("resolved", START + datetime.timedelta(minutes=25))
        assert dict(Alert.objects.values_list("external_id", "ended_at")) == {
            "fp-1@2024-01-15T10:00:00Z": START + datetime.timedelta(minutes=10),
            "fp-2@2024-01-15T10:02:00Z": START + datetime.timedelta(minutes=25),
        }
        assert events().last().produced["resolved incidents"] == [incident.pk]

    def test_alerts_resolved_before_correlation_make_a_resolved_incident(self, sender, acme):
        sender.post(URL, notification(alert("fp-1", company="comp-acme", instance="web-1")), format="json")
        sender.post(URL, notification(alert("fp-1", ends=30, company="comp-acme", instance="web-1"),
                                      alert("fp-2", starts=5, ends=12, company="comp-acme", instance="web-1")), format="json")

        correlate_alerts(company=acme, until=START + datetime.timedelta(hours=1))

        incident = Incident.objects.get()
        assert (incident.status, incident.resolved_at) == ("resolved", START + datetime.timedelta(minutes=30))

    def test_a_resolution_set_by_a_person_or_pagerduty_wins(self, sender, acme):
        sender.post(URL, notification(alert("fp-1", company="comp-acme", instance="web-1")), format="json")
        correlate_alerts(company=acme, until=START + datetime.timedelta(hours=1))
        by_hand = START + datetime.timedelta(minutes=7)
        Incident.objects.update(status="resolved", resolved_at=by_hand)

        sender.post(URL, notification(alert("fp-1", ends=40, company="comp-acme", instance="web-1")), format="json")

        assert Incident.objects.get().resolved_at == by_hand
        assert Alert.objects.get().ended_at == START + datetime.timedelta(minutes=40)

    def test_the_same_notification_again_changes_nothing(self, sender, acme):
        body = notification(alert("fp-1", ends=10, company="comp-acme"))
        first = sender.post(URL, body, format="json").json()
        again = sender.post(URL, body, format="json").json()
        assert (first["created"], again["created"], again["ended"]) == (1, 0, 0)
        assert again["source_events"] == first["source_events"] and events().count() == 1
