"""
A data source names the source of the observations it sends (the seed's worker writes source per row), read back
with them; the portal's own sources stay its own.
"""
import pytest

from kpis import roles
from kpis.models import Observation
from tests.helpers import client_for, member_of
from tests.kpis.factories import KpiDefinitionFactory
from tests.tenancy.factories import CompanyFactory


@pytest.fixture
def feed(db):
    CompanyFactory(slug="comp-acme")
    KpiDefinitionFactory(slug="abac-coverage", units="percent")
    return client_for(member_of(roles.DATA_SOURCES, "acme-feed"))


def observation(observed_at="2024-01-15T00:00:00Z", **fields):
    return {"kpi": "abac-coverage", "company": "comp-acme", "observed_at": observed_at, "value": 97.5, **fields}


def test_a_data_source_names_the_source_of_its_observations(feed):
    rows = [observation(source="ssm-worker"), observation("2024-01-15T01:00:00Z", source="iam.audit_v2"), observation("2024-01-15T02:00:00Z")]
    assert feed.post("/api/observations/", rows, format="json").status_code == 201
    read = client_for(member_of(roles.AUDITORS)).get("/api/kpis/abac-coverage/observations/").json()["results"]
    assert [(row["observed_at"], row["source"], row["run"]) for row in read] == [
        ("2024-01-15T00:00:00Z", "ssm-worker", "api:acme-feed"),
        ("2024-01-15T01:00:00Z", "iam.audit_v2", "api:acme-feed"),
        ("2024-01-15T02:00:00Z", "api", "api:acme-feed"),
    ]


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("nightly", "source 'nightly' is reserved for the portal's own nightly observations; name your data source."),
        ("backfill", "source 'backfill' is reserved for the portal's own backfill observations; name your data source."),
        ("prometheus", "source 'prometheus' is reserved for the portal's own prometheus observations; name your data source."),
        ("prometheus-prod", "source 'prometheus-prod' is reserved for the portal's own prometheus observations; name your data source."),
        ("demo", "source 'demo' is reserved for the portal's own demo observations; name your data source."),
        ("SSM Worker", "source 'SSM Worker' is not a source name: 1-32 lowercase letters, digits, '-', '.' or '_', starting with a letter or digit (e.g. ssm-worker)."),
        ("-worker", "source '-worker' is not a source name: 1-32 lowercase letters, digits, '-', '.' or '_', starting with a letter or digit (e.g. ssm-worker)."),
    ],
)
def test_a_source_passing_for_the_portals_own_or_not_a_slug_is_a_400_naming_source(feed, source, message):
    response = feed.post("/api/observations/", [observation(), observation("2024-01-15T01:00:00Z", source=source)], format="json")
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {"source": [f"Row 2 (abac-coverage): {message}"]}
    assert not Observation.objects.exists()


@pytest.mark.parametrize(("source", "field_message"), [("x" * 33, "Ensure this field has no more than 32 characters."), ("", "This field may not be blank.")])
def test_a_source_too_long_or_empty_is_refused(feed, source, field_message):
    response = feed.post("/api/observations/", observation(source=source), format="json")
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {"[0].source": [field_message]}
    assert not Observation.objects.exists()


def test_prometheus_like_names_that_are_not_the_portals_are_a_data_sources_own(feed):
    assert feed.post("/api/observations/", observation(source="prometheuslike"), format="json").status_code == 201
    assert Observation.objects.get().source == "prometheuslike"
