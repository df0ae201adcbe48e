"""PagerDuty v3 webhooks as PagerDuty sends them: signed, redelivered, out of order, and what mttr, mtta and the P1 count make of them."""
import datetime
import json
import logging

import pytest
from rest_framework.test import APIClient

from connectors.choices import EventStatus
from connectors.models import ServiceLink, SourceEvent
from connectors.signatures import sign_pagerduty
from incidents.choices import IncidentStatus, Phase, Severity
from incidents.models import Incident, PhaseTransition
from incidents.pagerduty import severity_of
from kpis.choices import ObservationSource
from kpis.models import Observation
from kpis.observations import compute_observations
from tests.companyos.factories import BASE_TIME
from tests.connectors.factories import IntegrationFactory
from tests.helpers import FIXTURES_DIR
from tests.tenancy.factories import CompanyFactory, DomainFactory, ServiceFactory

FIXTURES = FIXTURES_DIR / "pagerduty"
SECRET = "It's a Secret to Everybody"
PD_INCIDENT = "pagerduty:Q1ZE7FN2TBVQ4X"
DAY = BASE_TIME.date()  # 2024-01-15, the fixtures' day


def at(hour, minute, second=0):
    return BASE_TIME + datetime.timedelta(hours=hour, minutes=minute, seconds=second)


def body_of(name):
    return (FIXTURES / f"{name}.json").read_bytes()


def changed(name, **event_fields):
    """The fixture `name` as another event: its event-level fields replaced."""
    payload = json.loads(body_of(name))
    payload["event"].update(event_fields)
    return json.dumps(payload).encode()


def deliver(integration, body, *, signature=None, integration_id=None):
    """POST `body` (a fixture name or bytes) to the integration's webhook with the headers PagerDuty sends."""
    body = body_of(body) if isinstance(body, str) else body
    headers = {
        "HTTP_USER_AGENT": "PagerDuty-Webhook/V3.0",
        "HTTP_X_WEBHOOK_ID": "d8a1c8f2-3b0e-4c55-9a51-2f0e6d7b9c41",
        "HTTP_X_WEBHOOK_SUBSCRIPTION": "PSUB7QW",
    }
    if signature is None:
        signature = sign_pagerduty(SECRET, body)
    if signature:
        headers["HTTP_X_PAGERDUTY_SIGNATURE"] = signature
    url = f"/api/webhooks/pagerduty/{integration_id or integration.pk}/"
    return APIClient().post(url, data=body, content_type="application/json", **headers)


def incident_state():
    """The PagerDuty incident and its phases as the portal has them."""
    incident = Incident.objects.get(external_id=PD_INCIDENT)
    phases = dict(PhaseTransition.objects.filter(incident=incident).values_list("phase", "entered_at"))
    return {
        "severity": incident.severity,
        "status": incident.status,
        "detected_at": incident.detected_at,
        "acknowledged_at": incident.acknowledged_at,
        "resolved_at": incident.resolved_at,
        "source_event": incident.source_event.delivery_id if incident.source_event else None,
        "phases": phases,
    }


def observed(slug):
    compute_observations(
        slug, since=DAY, until=DAY + datetime.timedelta(days=1), source=ObservationSource.BACKFILL, run="test"
    )
    return list(Observation.objects.filter(kpi__slug=slug))


@pytest.fixture
def checkout(db):
    return ServiceFactory(slug="checkout-api", domain=DomainFactory(company=CompanyFactory(slug="comp-acme"), slug="payments"))


@pytest.fixture
def integration(checkout):
    integration = IntegrationFactory(kind="pagerduty", company=checkout.domain.company, secret=SECRET)
    ServiceLink.objects.create(integration=integration, external_id="PSVC7KD", service=checkout)
    return integration


def test_an_incidents_life_cycle_makes_its_phases_and_its_mttr_mtta_and_p1_count(integration, checkout, computed_kpis):
    triggered = deliver(integration, "incident_triggered")
    assert triggered.status_code == 200, triggered.json()
    assert triggered.json()["status"] == "processed" and triggered.json()["redelivery"] is False
    incident = Incident.objects.get(external_id=PD_INCIDENT)
    assert (incident.company, incident.service, incident.title) == (checkout.domain.company, checkout, "Checkout API p99 latency above 2s")
    assert (incident.severity, incident.status, incident.detected_at) == (Severity.P3, IncidentStatus.OPEN, at(10, 0))

    assert deliver(integration, "incident_acknowledged").status_code == 200
    assert incident_state()["status"] == IncidentStatus.ACKNOWLEDGED
    assert deliver(integration, "incident_priority_updated").status_code == 200
    assert incident_state()["severity"] == Severity.P1
    resolved = deliver(integration, "incident_resolved")
    assert resolved.status_code == 200, resolved.json()

    assert incident_state() == {
        "severity": Severity.P1,
        "status": IncidentStatus.RESOLVED,
        "detected_at": at(10, 0),
        "acknowledged_at": at(10, 4),
        "resolved_at": at(10, 52),
        "source_event": "01HM50T9V1X3Z5B7D9F1H3K5MN",
        "phases": {Phase.ALERT: at(10, 0), Phase.GATHER: at(10, 4), Phase.RESOLVED: at(10, 52)},
    }
    event = SourceEvent.objects.get(delivery_id="01HM50T9V1X3Z5B7D9F1H3K5MN")
    assert (event.source, event.event_type, event.integration, event.company) == (
        "pagerduty", "incident.resolved", integration, checkout.domain.company
    )
    assert event.payload == json.loads(body_of("incident_resolved"))
    assert event.produced == {
        "incidents.incident": [incident.pk],
        "incidents.phasetransition": [PhaseTransition.objects.get(incident=incident, phase=Phase.RESOLVED).pk],
    }

    [mttr] = observed("mttr")
    assert (mttr.value, mttr.incident, mttr.service, mttr.observed_at) == (52.0, incident, checkout, at(10, 52))
    [mtta] = observed("mtta")
    assert (mtta.value, mtta.observed_at) == (4.0, at(10, 4))
    [p1_count] = observed("p1-incident-count")
    assert (p1_count.company, p1_count.value) == (checkout.domain.company, 1.0)


def test_a_redelivered_event_changes_nothing(integration):
    for name in ("incident_triggered", "incident_acknowledged", "incident_priority_updated"):
        deliver(integration, name)
    before = incident_state()

    again = deliver(integration, "incident_triggered")  # its P3 is older than the P1 since

    assert again.status_code == 200
    assert again.json()["redelivery"] is True
    assert incident_state() == before
    assert before["severity"] == Severity.P1
    assert SourceEvent.objects.count() == 3
    assert Incident.objects.count() == 1


def test_resolved_before_acknowledged_keeps_every_time_and_the_latest_severity(integration, computed_kpis):
    for name in ("incident_resolved", "incident_acknowledged", "incident_triggered"):
        assert deliver(integration, name).status_code == 200

    assert incident_state() == {
        "severity": Severity.P1,  # the resolution's priority: the older events' P3 does not come back
        "status": IncidentStatus.RESOLVED,
        "detected_at": at(10, 0),
        "acknowledged_at": at(10, 4),
        "resolved_at": at(10, 52),
        "source_event": "01HM50T9V1X3Z5B7D9F1H3K5MN",
        "phases": {Phase.ALERT: at(10, 0), Phase.GATHER: at(10, 4), Phase.RESOLVED: at(10, 52)},
    }
    assert [o.value for o in observed("mttr")] == [52.0]
    assert [o.value for o in observed("mtta")] == [4.0]


def test_a_later_acknowledgement_keeps_the_first(integration):
    deliver(integration, "incident_acknowledged")

    reacknowledged = changed("incident_acknowledged", id="01HM4ZQ5R7T9V1X3Z5B7D9F1H3", occurred_at="2024-01-15T10:31:00Z")
    assert deliver(integration, reacknowledged).status_code == 200

    state = incident_state()
    assert state["acknowledged_at"] == at(10, 4)
    assert state["phases"][Phase.GATHER] == at(10, 4)
    assert state["source_event"] == "01HM4ZQ5R7T9V1X3Z5B7D9F1H3"


def test_a_resolution_stamped_before_the_incident_was_created_is_moved_to_its_creation(integration):
    early = changed("incident_resolved", occurred_at="2024-01-15T09:59:58Z")

    assert deliver(integration, early).status_code == 200

    state = incident_state()
    assert state["resolved_at"] == state["detected_at"] == at(10, 0)


def test_an_incident_of_an_unlinked_service_is_kept_for_the_company(integration, checkout, computed_kpis):
    ServiceLink.objects.all().delete()

    for name in ("incident_triggered", "incident_resolved"):
        assert deliver(integration, name).status_code == 200

    incident = Incident.objects.get(external_id=PD_INCIDENT)
    assert (incident.company, incident.service) == (checkout.domain.company, None)
    [mttr] = observed("mttr")
    assert (mttr.value, mttr.company, mttr.service) == (52.0, checkout.domain.company, None)


@pytest.mark.parametrize("name", ["pagey_ping", "incident_annotated"])
def test_events_not_read_are_kept_and_ignored(integration, name):
    response = deliver(integration, name)

    assert response.status_code == 200
    assert response.json()["status"] == "ignored"
    assert "is not read" in response.json()["detail"]
    assert SourceEvent.objects.get().status == EventStatus.IGNORED
    assert not Incident.objects.exists()


@pytest.mark.parametrize(
    "case",
    ["another secret", "no signature", "body changed after signing", "unknown integration", "inactive integration",
     "github integration"],
)
def test_a_delivery_not_signed_by_an_active_pagerduty_integration_is_refused_and_logged(integration, case, caplog):
    body = body_of("incident_triggered")
    signature, integration_id = sign_pagerduty(SECRET, body), integration.pk
    if case == "another secret":
        signature = sign_pagerduty("guessed", body)
    elif case == "no signature":
        signature = ""
    elif case == "body changed after signing":
        body = body.replace(b"P3", b"P4")
    elif case == "unknown integration":
        integration_id = integration.pk + 1000
    elif case == "inactive integration":
        integration.active = False
        integration.save()
    else:
        integration_id = IntegrationFactory(kind="github", company=integration.company, secret=SECRET).pk

    with caplog.at_level(logging.WARNING, logger="connectors.api.views"):
        response = deliver(integration, body, signature=signature, integration_id=integration_id)

    assert response.status_code == 401
    assert response.json()["error"]["message"].startswith("X-PagerDuty-Signature:")
    assert f"Refused a pagerduty delivery to integration {integration_id}" in caplog.text
    assert not SourceEvent.objects.exists() and not Incident.objects.exists()


def test_signatures_of_a_secret_being_rotated_are_accepted(integration):
    body = body_of("incident_triggered")

    response = deliver(integration, body, signature=f"{sign_pagerduty('retired', body)},{sign_pagerduty(SECRET, body)}")

    assert response.status_code == 200
    assert Incident.objects.filter(external_id=PD_INCIDENT).exists()


def test_a_payload_without_an_event_id_is_refused_naming_it(integration):
    payload = json.loads(body_of("incident_triggered"))
    del payload["event"]["id"]

    response = deliver(integration, json.dumps(payload).encode())

    assert response.status_code == 400
    assert response.json()["error"]["message"] == "event.id: A PagerDuty v3 webhook payload names its event's id."
    assert not SourceEvent.objects.exists()


def test_an_incident_without_its_creation_time_is_refused_and_kept_as_failed(integration):
    payload = json.loads(body_of("incident_triggered"))
    payload["event"]["data"]["created_at"] = "2024-13-45T10:00:00Z"

    response = deliver(integration, json.dumps(payload).encode())

    assert response.status_code == 400
    assert response.json()["error"]["message"] == (
        "event.data.created_at: '2024-13-45T10:00:00Z' is not an ISO 8601 time with a time zone."
    )
    event = SourceEvent.objects.get()
    assert event.status == EventStatus.FAILED and "event.data.created_at" in event.detail
    assert not Incident.objects.exists()


@pytest.mark.parametrize(
    "priority, urgency, severity",
    [
        ("P1", "high", Severity.P1),
        ("P2", "low", Severity.P2),
        ("P3", "high", Severity.P3),
        ("P4", "low", Severity.P4),
        ("P5", "low", Severity.P4),
        (None, "high", Severity.P2),
        (None, "low", Severity.P4),
        ("SEV-1", "high", Severity.P2),  # an account's own priority names: the urgency decides
    ],
)
def test_severity_is_the_priority_else_the_urgency(priority, urgency, severity):
    data = {"priority": {"summary": priority, "type": "priority_reference"} if priority else None, "urgency": urgency}
    assert severity_of(data) == severity
