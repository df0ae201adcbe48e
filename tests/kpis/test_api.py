import datetime

import pytest
from rest_framework.test import APIClient

from kpis import roles, services
from kpis.models import KpiDefinition
from tests.companyos.factories import BASE_TIME, UserFactory
from tests.helpers import client_for, member_of
from tests.incidents.factories import IncidentFactory
from tests.kpis.factories import KpiDefinitionFactory, ObservationFactory
from tests.tenancy.factories import CompanyFactory


@pytest.fixture
def catalogue(db):
    return {
        "mttr": KpiDefinitionFactory(slug="mttr", visibility="exec"),
        "mtta": KpiDefinitionFactory(slug="mtta", visibility="internal"),
    }


def test_every_endpoint_refuses_an_anonymous_caller_with_the_error_shape(catalogue):
    response = APIClient().get("/api/kpis/")
    assert response.status_code == 401
    assert response.json()["error"]["status"] == 401
    assert "credentials" in response.json()["error"]["message"].lower()


def test_a_stakeholder_sees_only_exec_kpis_in_list_and_detail(catalogue):
    client = client_for(member_of(roles.STAKEHOLDERS))
    listed = [kpi["slug"] for kpi in client.get("/api/kpis/").json()["results"]]
    assert listed == ["mttr"]
    hidden = client.get("/api/kpis/mtta/")
    assert hidden.status_code == 404
    assert hidden.json()["error"]["message"] == "No KPI definition has the slug 'mtta'."
    assert client.get("/api/kpis/mtta/observations/").status_code == 404


def test_a_responder_sees_internal_kpis(catalogue):
    client = client_for(member_of(roles.RESPONDERS))
    listed = [kpi["slug"] for kpi in client.get("/api/kpis/").json()["results"]]
    assert listed == ["mtta", "mttr"]


def test_definitions_filter_by_dimension_and_search(catalogue):
    KpiDefinitionFactory(slug="gross-margin", name="Gross Margin", dimension="financials", visibility="exec")
    client = client_for(member_of(roles.EXECUTIVES))
    by_dimension = client.get("/api/kpis/", {"dimension": "financials"}).json()["results"]
    assert [kpi["slug"] for kpi in by_dimension] == ["gross-margin"]
    searched = client.get("/api/kpis/", {"search": "margin"}).json()["results"]
    assert [kpi["slug"] for kpi in searched] == ["gross-margin"]
    refused = client.get("/api/kpis/", {"dimension": "happiness"})
    assert refused.status_code == 400
    assert refused.json()["error"]["message"].startswith("dimension:")


def test_the_definition_list_runs_a_fixed_number_of_queries(catalogue, django_assert_max_num_queries):
    owner = UserFactory(username="owner")
    for number in range(30):
        KpiDefinitionFactory(slug=f"extra-{number}", owner=owner)
    client = client_for(member_of(roles.RESPONDERS))
    with django_assert_max_num_queries(6):
        response = client.get("/api/kpis/", {"limit": 100})
    assert response.json()["count"] == 32


class TestChangingADefinition:
    def test_a_patch_without_a_reason_is_refused_and_changes_nothing(self, catalogue):
        owner = member_of(roles.KPI_OWNERS)
        KpiDefinition.objects.filter(slug="mttr").update(owner=owner)
        response = client_for(owner).patch("/api/kpis/mttr/", {"target": 25}, format="json")
        assert response.status_code == 400
        assert response.json()["error"]["message"] == "change_reason: A reason for the change is required."
        assert KpiDefinition.objects.get(slug="mttr").target == 30

    def test_a_patch_with_a_reason_is_recorded_in_history_like_an_admin_edit(self, catalogue):
        owner = member_of(roles.KPI_OWNERS)
        KpiDefinition.objects.filter(slug="mttr").update(owner=owner)
        response = client_for(owner).patch(
            "/api/kpis/mttr/", {"description": "Detection to resolution.", "change_reason": "Clearer wording"}, format="json"
        )
        assert response.status_code == 200, response.json()
        assert response.json()["description"] == "Detection to resolution."
        latest = KpiDefinition.objects.get(slug="mttr").history.first()
        assert (latest.history_change_reason, latest.history_user, latest.description) == (
            "Clearer wording", owner, "Detection to resolution."
        )

    def test_an_invalid_value_is_refused_naming_the_field(self, catalogue):
        owner = member_of(roles.KPI_OWNERS)
        KpiDefinition.objects.filter(slug="mttr").update(owner=owner)
        response = client_for(owner).patch(
            "/api/kpis/mttr/", {"critical_threshold": 10, "change_reason": "Oops"}, format="json"
        )
        assert response.status_code == 400
        assert response.json()["error"]["message"].startswith("critical_threshold:")

    def test_only_the_owner_may_patch(self, catalogue):
        someone_else = member_of(roles.KPI_OWNERS)
        response = client_for(someone_else).patch(
            "/api/kpis/mttr/", {"target": 1, "change_reason": "Not mine"}, format="json"
        )
        assert response.status_code == 403
        assert "'mttr'" in response.json()["error"]["message"]
        assert KpiDefinition.objects.get(slug="mttr").target == 30


class TestObservationsOfAKpi:
    def test_observations_are_cursor_paginated_and_filtered_by_period_and_company(self, catalogue):
        acme, beta = CompanyFactory(slug="comp-acme"), CompanyFactory(slug="comp-beta")
        for day in range(5):
            ObservationFactory(kpi=catalogue["mttr"], company=acme, observed_at=BASE_TIME + datetime.timedelta(days=day))
        ObservationFactory(kpi=catalogue["mttr"], company=beta)
        client = client_for(member_of(roles.EXECUTIVES))
        first = client.get(
            "/api/kpis/mttr/observations/",
            {"company": "comp-acme", "since": (BASE_TIME + datetime.timedelta(days=1)).isoformat(), "page_size": 2},
        ).json()
        assert [row["observed_at"][:10] for row in first["results"]] == ["2024-01-16", "2024-01-17"]
        second = client.get(first["next"]).json()
        assert [row["observed_at"][:10] for row in second["results"]] == ["2024-01-18", "2024-01-19"]
        assert {row["company"] for row in first["results"] + second["results"]} == {"comp-acme"}

    def test_a_bad_date_or_company_is_a_400_naming_the_parameter(self, catalogue):
        client = client_for(member_of(roles.EXECUTIVES))
        bad_date = client.get("/api/kpis/mttr/observations/", {"since": "yesterday"})
        assert bad_date.status_code == 400
        assert bad_date.json()["error"]["message"].startswith("since:")
        bad_company = client.get("/api/kpis/mttr/observations/", {"company": "comp-nowhere"})
        assert bad_company.status_code == 400
        assert bad_company.json()["error"]["message"].startswith("company:")


def test_an_incidents_kpis_leave_out_what_the_caller_may_not_see(catalogue):
    incident = IncidentFactory()
    for kpi in catalogue.values():
        ObservationFactory(kpi=kpi, company=incident.company, incident=incident)
    stakeholder = client_for(member_of(roles.STAKEHOLDERS)).get(f"/api/incidents/{incident.pk}/kpis/")
    assert [row["kpi"] for row in stakeholder.json()] == ["mttr"]
    responder = client_for(member_of(roles.RESPONDERS)).get(f"/api/incidents/{incident.pk}/kpis/")
    assert [row["kpi"] for row in responder.json()] == ["mtta", "mttr"]


class TestHistory:
    def test_owners_and_auditors_read_who_when_why_and_what_changed(self, catalogue):
        owner = member_of(roles.KPI_OWNERS)
        services.change_definition(catalogue["mttr"], actor=None, reason="Assign the owner", owner=owner)
        client_for(owner).patch("/api/kpis/mttr/", {"owner_role": "SRE Lead", "change_reason": "Ownership moved"}, format="json")
        log = client_for(member_of(roles.AUDITORS)).get("/api/kpis/mttr/history/").json()
        assert [entry["version"] for entry in log] == [1, 2, 3]
        latest = log[-1]
        assert (latest["user"], latest["reason"]) == (owner.username, "Ownership moved")
        assert latest["changes"] == [{"field": "owner_role", "old": "Ops Leader", "new": "SRE Lead"}]

    def test_executives_do_not_read_history(self, catalogue):
        response = client_for(member_of(roles.EXECUTIVES)).get("/api/kpis/mttr/history/")
        assert response.status_code == 403


def test_the_observation_and_incident_lists_run_a_fixed_number_of_queries(catalogue, django_assert_max_num_queries):
    acme = CompanyFactory(slug="comp-acme")
    for day in range(40):
        incident = IncidentFactory(company=acme, service=None)
        ObservationFactory(kpi=catalogue["mttr"], company=acme, incident=incident,
                           observed_at=BASE_TIME + datetime.timedelta(days=day))
    client = client_for(member_of(roles.RESPONDERS))
    with django_assert_max_num_queries(6):
        assert len(client.get("/api/kpis/mttr/observations/").json()["results"]) == 40
    with django_assert_max_num_queries(6):
        assert client.get("/api/incidents/", {"limit": 100}).json()["count"] == 40
