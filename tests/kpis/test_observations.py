"""Ingesting observations: known slugs of measured KPIs only, values their units allow, never overwriting a stored key."""
import datetime

import pytest
from django.core.exceptions import ValidationError

from kpis.models import Observation
from kpis.observations import DuplicateObservation, record_observations
from tests.companyos.factories import BASE_TIME
from tests.incidents.factories import IncidentFactory
from tests.kpis.factories import KpiDefinitionFactory
from tests.tenancy.factories import CompanyFactory


@pytest.fixture
def company(db):
    return CompanyFactory(slug="comp-acme")


@pytest.fixture
def kpis(db):
    return {
        "slo-attainment": KpiDefinitionFactory(slug="slo-attainment", units="percent"),
        "session-duration": KpiDefinitionFactory(slug="session-duration", units="minutes"),
        "nps": KpiDefinitionFactory(slug="nps", units="score"),
    }


def row(slug, company, value, **extra):
    return {"kpi": slug, "company": company, "observed_at": BASE_TIME, "value": value, **extra}


def test_valid_observations_are_stored_with_their_source_and_run(kpis, company):
    written = record_observations(
        [row("slo-attainment", company, 87.5, confidence=0.9), row("nps", company, 52)], source="api", run="request-7"
    )

    assert written == 2
    assert sorted(Observation.objects.values_list("kpi__slug", "value", "confidence", "source", "run")) == [
        ("nps", 52.0, 1.0, "api", "request-7"),
        ("slo-attainment", 87.5, 0.9, "api", "request-7"),
    ]


def test_an_observation_for_an_unknown_slug_is_refused_naming_it_and_nothing_is_stored(kpis, company):
    with pytest.raises(ValidationError) as refused:
        record_observations([row("nps", company, 40), row("net-promoter", company, 40)])

    assert "'net-promoter'" in refused.value.message_dict["kpi"][0]
    assert not Observation.objects.exists()


def test_a_percent_outside_0_to_100_is_refused_naming_the_row_and_slug(kpis, company):
    with pytest.raises(ValidationError) as refused:
        record_observations([row("slo-attainment", company, 87.5), row("slo-attainment", company, 120, observed_at=BASE_TIME + datetime.timedelta(days=1))])

    assert refused.value.message_dict["value"] == ["Row 2 (slo-attainment): 120.0 is outside 0-100, the range of a percent KPI."]
    assert not Observation.objects.exists()


def test_a_negative_duration_and_a_confidence_above_1_are_refused_naming_their_fields(kpis, company):
    with pytest.raises(ValidationError) as refused:
        record_observations([row("session-duration", company, -5), row("nps", company, 40, confidence=1.5)])

    assert set(refused.value.message_dict) == {"value", "confidence"}
    assert "Row 1 (session-duration)" in refused.value.message_dict["value"][0]
    assert "Row 2 (nps)" in refused.value.message_dict["confidence"][0]


def test_a_value_that_is_not_a_finite_number_is_refused(kpis, company):
    with pytest.raises(ValidationError) as refused:
        record_observations([row("nps", company, float("nan"))])

    assert "finite number" in refused.value.message_dict["value"][0]


def test_an_observation_with_the_key_of_a_stored_one_is_refused_naming_the_key(kpis, company):
    record_observations([row("nps", company, 40)])

    with pytest.raises(DuplicateObservation) as refused:
        record_observations([row("nps", company, 55, observed_at=BASE_TIME + datetime.timedelta(hours=1)), row("nps", company, 60)])

    assert refused.value.messages == [
        "An observation of 'nps' for company 'comp-acme', at 2024-01-15T00:00:00+00:00 already exists; observations are never overwritten."
    ]
    assert list(Observation.objects.values_list("value", flat=True)) == [40.0]


def test_a_stored_key_late_in_a_large_batch_is_the_one_named(kpis, company):
    hours = [BASE_TIME + datetime.timedelta(hours=hour) for hour in range(1200)]
    record_observations([row("nps", company, 40, observed_at=hours[1100])])

    with pytest.raises(DuplicateObservation) as refused:
        record_observations([row("nps", company, 50, observed_at=hour) for hour in hours])

    assert refused.value.messages[0].startswith(f"An observation of 'nps' for company 'comp-acme', at {hours[1100].isoformat()} ")
    assert Observation.objects.count() == 1


def test_the_same_key_twice_in_one_batch_is_refused(kpis, company):
    with pytest.raises(DuplicateObservation, match="appears twice"):
        record_observations([row("nps", company, 40), row("nps", company, 41)])

    assert not Observation.objects.exists()


def test_an_incident_observation_takes_the_scope_of_its_incident(kpis):
    incident = IncidentFactory()

    record_observations([{"kpi": "session-duration", "incident": incident.pk, "observed_at": BASE_TIME, "value": 45}])

    stored = Observation.objects.get()
    assert (stored.company, stored.domain, stored.service, stored.incident) == (
        incident.company, incident.service.domain, incident.service, incident
    )


def test_computed_sources_cannot_be_ingested(kpis, company):
    with pytest.raises(ValueError, match="'backfill'"):
        record_observations([row("nps", company, 40)], source="backfill")
