import datetime

import pytest
from django.test import override_settings
from prometheus_client.parser import text_string_to_metric_families

from scoring.services import compute_snapshots
from tests.kpis.factories import KpiDefinitionFactory, ObservationFactory
from tests.tenancy.factories import CompanyFactory


@pytest.fixture
def scored(db):
    company = CompanyFactory(slug="comp-acme")
    slo = KpiDefinitionFactory(
        slug="slo-attainment", units="percent", direction="higher", target=99.9, critical_threshold=99.5,
        dimension="reliability", weight=30,
    )
    for day, value in ((14, 99.0), (15, 99.7)):
        ObservationFactory(kpi=slo, company=company, value=value,
                           observed_at=datetime.datetime(2024, 1, day, tzinfo=datetime.timezone.utc))
        compute_snapshots(datetime.date(2024, 1, day))
    return company


def samples(response):
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.content.decode())
        for sample in family.samples
    }


def test_metrics_serve_the_latest_scores_in_the_prometheus_format(scored, client):
    response = client.get("/metrics", REMOTE_ADDR="127.0.0.1")
    assert response.status_code == 200
    values = samples(response)
    assert values[("companyos_composite_score", (("company", "comp-acme"),))] == pytest.approx(50.0)
    assert values[("companyos_dimension_score", (("company", "comp-acme"), ("dimension", "reliability")))] == pytest.approx(50.0)
    assert values[("companyos_kpi_value", (("company", "comp-acme"), ("slug", "slo-attainment")))] == pytest.approx(99.7)


@override_settings(METRICS_TOKEN="s3cret-scrape-token")
def test_metrics_refuse_other_networks_without_the_token(scored, client):
    assert client.get("/metrics", REMOTE_ADDR="203.0.113.9").status_code == 403
    wrong = client.get("/metrics", REMOTE_ADDR="203.0.113.9", HTTP_AUTHORIZATION="Bearer nope")
    assert wrong.status_code == 403
    allowed = client.get("/metrics", REMOTE_ADDR="203.0.113.9", HTTP_AUTHORIZATION="Bearer s3cret-scrape-token")
    assert allowed.status_code == 200


def test_metrics_map_every_service_to_its_domain_for_the_reliability_cascade_rules(companies, client):
    values = samples(client.get("/metrics", REMOTE_ADDR="127.0.0.1"))
    mapping = {labels for (name, labels) in values if name == "service_domain_mapping"}
    assert len(mapping) == 4
    service = companies[1].domains.get(slug="comp-globex-frontend").services.get()
    assert (("company", "comp-globex"), ("domain", "comp-globex-frontend"), ("service", service.slug)) in mapping
