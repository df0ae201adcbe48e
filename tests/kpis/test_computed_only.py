"""A KPI with a calculator is computed only: an observation posted for it is refused, saying what to send instead."""
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from kpis import roles
from kpis.models import Observation
from tests.kpis.factories import KpiDefinitionFactory
from tests.helpers import client_for, member_of
from tests.tenancy.factories import CompanyFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def data_source(db):
    CompanyFactory(slug="comp-acme")
    return client_for(member_of(roles.DATA_SOURCES, "pagerduty-bridge"))


def observation(kpi, observed_at="2024-01-15T00:00:00Z", value=42.0):
    return {"kpi": kpi, "company": "comp-acme", "observed_at": observed_at, "value": value}


def test_an_observation_of_a_computed_kpi_is_a_400_naming_the_slug_and_where_its_input_goes(data_source):
    KpiDefinitionFactory(slug="mttr")
    KpiDefinitionFactory(slug="session-duration")
    rows = [observation("session-duration"), observation("mttr"), observation("mttr", "2024-01-16T00:00:00Z")]
    response = data_source.post("/api/observations/", rows, format="json")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["message"].startswith("kpi: 'mttr' is computed, so it takes no observations; it is computed from incidents")
    assert "send incidents to /api/incidents/" in error["message"]
    assert error["fields"] == {"kpi": [error["message"].removeprefix("kpi: ")]}
    assert not Observation.objects.exists()


def test_the_hint_names_the_input_of_the_kpis_own_app(data_source):
    KpiDefinitionFactory(slug="deployment-frequency", units="per_day", direction="higher", target=1, critical_threshold=0)
    KpiDefinitionFactory(slug="gross-margin", units="percent", direction="higher", target=70, critical_threshold=50)
    response = data_source.post("/api/observations/", [observation("gross-margin"), observation("deployment-frequency")], format="json")
    assert response.status_code == 400
    messages = response.json()["error"]["fields"]["kpi"]
    assert [message.split(" is computed")[0] for message in messages] == ["'deployment-frequency'", "'gross-margin'"]
    assert "send GitHub's webhooks to /api/webhooks/github/{integration}/" in messages[0]
    assert "/api/imports/billing/" in messages[1]


def test_an_ingest_only_kpi_is_still_taken(data_source):
    KpiDefinitionFactory(slug="session-duration")
    response = data_source.post("/api/observations/", [observation("session-duration")], format="json")
    assert response.status_code == 201, response.json()
    assert Observation.objects.get().kpi.slug == "session-duration"


def test_the_check_costs_the_same_for_a_batch_of_many_rows_as_for_one(data_source):
    KpiDefinitionFactory(slug="session-duration")
    KpiDefinitionFactory(slug="mttr")
    one = [observation("mttr")]
    many = [observation(kpi, f"2024-01-{day:02d}T00:00:00Z") for day in range(1, 29) for kpi in ("session-duration", "mttr")]
    queries = []
    for rows in (one, many):
        with CaptureQueriesContext(connection) as captured:
            assert data_source.post("/api/observations/", rows, format="json").status_code == 400
        queries.append(len(captured))
    assert queries[0] == queries[1]
