"""
What a data source writes about an incident can be read back: its timeline, milestones, survey responses, alerts and
runbook runs, each a paginated list under the incident, of the caller's companies only.
"""
import datetime

import pytest

from kpis import roles
from tests.companyos.factories import BASE_TIME
from tests.helpers import client_for, member_of
from tests.incidents.factories import AlertFactory, IncidentFactory, RunbookExecutionFactory
from tests.tenancy.factories import MembershipFactory

SUB_RESOURCES = ["phases", "milestones", "survey-responses", "alerts", "runbook-executions"]


def at(minutes):
    return (BASE_TIME + datetime.timedelta(minutes=minutes)).isoformat().replace("+00:00", "Z")


@pytest.fixture
def written(db):
    """An incident of comp-acme and everything its data source wrote about it, through the API."""
    incident = IncidentFactory(service__domain__company__slug="comp-acme", service__slug="gateway")
    feed = client_for(member_of(roles.DATA_SOURCES, "acme-feed"))
    base = f"/api/incidents/{incident.pk}"
    for phase, minutes in (("gather", 4), ("resolved", 40)):
        assert feed.post(f"{base}/phases/", {"phase": phase, "entered_at": at(minutes)}, format="json").status_code == 201
    assert feed.post(f"{base}/milestones/", {"name": "First update", "committed_eta": at(30), "delivered_at": at(25)}, format="json").status_code == 201
    assert feed.post(f"{base}/survey-responses/", {"respondent": "cfo@example.com", "score": 4, "submitted_at": at(90)}, format="json").status_code == 201
    run = {"company": "comp-acme", "incident": incident.pk, "runbook_id": "SSM-DiskCleanup-001", "execution_id": "run-1",
           "started_at": at(10), "finished_at": at(12), "success": True}
    assert feed.post("/api/runbook-executions/", run, format="json").status_code == 201
    for minute in (1, 0, 2):
        AlertFactory(company=incident.company, service=incident.service, incident=incident, issued_at=BASE_TIME + datetime.timedelta(minutes=minute), external_id=f"a{minute}")
    return incident


@pytest.mark.parametrize("role", [roles.EXECUTIVES, roles.STAKEHOLDERS, roles.RESPONDERS, roles.AUDITORS, roles.KPI_OWNERS, roles.DATA_SOURCES])
def test_each_role_reads_back_what_was_written_about_an_incident(written, role):
    client = client_for(member_of(role))
    base = f"/api/incidents/{written.pk}"
    phases = client.get(f"{base}/phases/").json()
    assert phases["count"] == 2
    assert [(row["phase"], row["entered_at"]) for row in phases["results"]] == [("gather", at(4)), ("resolved", at(40))]
    milestone = client.get(f"{base}/milestones").json()["results"][0]
    assert (milestone["name"], milestone["committed_eta"], milestone["delivered_at"]) == ("First update", at(30), at(25))
    survey = client.get(f"{base}/survey-responses/").json()["results"][0]
    assert (survey["respondent"], survey["score"], survey["submitted_at"]) == ("cfo@example.com", 4, at(90))
    alerts = client.get(f"{base}/alerts/").json()["results"]
    assert [(alert["external_id"], alert["service"], alert["incident"]) for alert in alerts] == [
        ("a0", "gateway", written.pk), ("a1", "gateway", written.pk), ("a2", "gateway", written.pk),
    ]
    run = client.get(f"{base}/runbook-executions").json()["results"][0]
    assert (run["company"], run["execution_id"], run["incident"], run["success"]) == ("comp-acme", "run-1", written.pk, True)


def test_the_lists_are_paginated_like_the_rest(written):
    client = client_for(member_of(roles.RESPONDERS))
    first = client.get(f"/api/incidents/{written.pk}/alerts/?limit=2").json()
    assert (first["count"], len(first["results"])) == (3, 2)
    rest = client.get(first["next"]).json()
    assert [alert["external_id"] for alert in rest["results"]] == ["a2"]
    assert "/alerts/?" in first["next"]


def test_a_user_without_a_role_reads_none_of_them(written):
    client = client_for(member_of("Nobody in particular"))
    for name in SUB_RESOURCES:
        assert client.get(f"/api/incidents/{written.pk}/{name}/").status_code == 403


def test_an_unknown_incident_is_a_404(written):
    client = client_for(member_of(roles.RESPONDERS))
    for name in SUB_RESOURCES:
        response = client.get(f"/api/incidents/{written.pk + 1000}/{name}/")
        assert response.status_code == 404, name
        assert response.json()["error"]["status"] == 404


@pytest.mark.separate_tenants
def test_another_companys_incident_records_are_not_found(db):
    acme_incident = IncidentFactory(service__domain__company__slug="comp-acme")
    globex_incident = IncidentFactory(service__domain__company__slug="comp-globex")
    AlertFactory(company=globex_incident.company, incident=globex_incident)
    RunbookExecutionFactory(company=globex_incident.company, incident=globex_incident)
    for role in (roles.RESPONDERS, roles.DATA_SOURCES):
        user = member_of(role)
        MembershipFactory(user=user, company=acme_incident.company)
        client = client_for(user)
        for name in SUB_RESOURCES:
            assert client.get(f"/api/incidents/{acme_incident.pk}/{name}/").status_code == 200
            assert client.get(f"/api/incidents/{globex_incident.pk}/{name}/").status_code == 404
