"""
Who may scrape /metrics and what it shows: in production only the bearer token opens it (behind the TLS proxy every
client would otherwise look local), and it shows exec-visible KPIs unless a setting lets the token see internal ones.
"""
import datetime

import pytest
from django.test import override_settings
from prometheus_client.parser import text_string_to_metric_families

from scoring.services import compute_snapshots
from tests.companyos.helpers import manage
from tests.kpis.factories import KpiDefinitionFactory, ObservationFactory
from tests.tenancy.factories import CompanyFactory

TOKEN = "s3cret-scrape-token"
BEARER = {"HTTP_AUTHORIZATION": f"Bearer {TOKEN}"}


@pytest.fixture
def scored(db):
    """comp-acme scored on one day with an exec KPI and an internal one."""
    company = CompanyFactory(slug="comp-acme")
    for slug, visibility in (("slo-attainment", "exec"), ("pager-load", "internal")):
        kpi = KpiDefinitionFactory(slug=slug, visibility=visibility, units="percent", direction="higher", target=99.9,
                                   critical_threshold=99.5, dimension="reliability", weight=30)
        ObservationFactory(kpi=kpi, company=company, value=99.7,
                           observed_at=datetime.datetime(2024, 1, 15, tzinfo=datetime.timezone.utc))
    compute_snapshots(datetime.date(2024, 1, 15))
    return company


def kpi_slugs(response):
    assert response.status_code == 200, response.content
    return {
        sample.labels["slug"]
        for family in text_string_to_metric_families(response.content.decode())
        for sample in family.samples
        if sample.name == "companyos_kpi_value"
    }


@pytest.mark.slow
def test_production_trusts_no_network_and_one_proxy_by_default():
    show = "from django.conf import settings; print(settings.METRICS_ALLOWED_NETWORKS, settings.TRUSTED_PROXY_COUNT)"

    completed = manage("shell", "--no-imports", "-c", show)

    assert completed.stdout.strip() == "[] 1", completed.stderr


@override_settings(METRICS_ALLOWED_NETWORKS=[], METRICS_TOKEN="")
def test_without_a_token_set_production_refuses_every_scraper_even_a_local_one(scored, client):
    assert client.get("/metrics", REMOTE_ADDR="127.0.0.1").status_code == 403
    assert client.get("/metrics", REMOTE_ADDR="127.0.0.1", HTTP_AUTHORIZATION="Bearer ").status_code == 403


@override_settings(METRICS_ALLOWED_NETWORKS=[], METRICS_TOKEN=TOKEN)
def test_the_token_opens_it_and_shows_exec_kpis_only(scored, client):
    assert client.get("/metrics", REMOTE_ADDR="127.0.0.1").status_code == 403
    assert client.get("/metrics", REMOTE_ADDR="127.0.0.1", HTTP_AUTHORIZATION="Bearer nope").status_code == 403
    # Not ASCII: refused like any other wrong token, not a 500.
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer s3cret-scrape-tökén").status_code == 403

    assert kpi_slugs(client.get("/metrics", **BEARER)) == {"slo-attainment"}


@override_settings(METRICS_TOKEN=TOKEN, METRICS_TOKEN_SEES_INTERNAL_KPIS=True, METRICS_ALLOWED_NETWORKS=["127.0.0.1/32"])
def test_a_setting_lets_the_token_see_internal_kpis_but_not_an_allowed_network(scored, client):
    assert kpi_slugs(client.get("/metrics", **BEARER)) == {"slo-attainment", "pager-load"}
    assert kpi_slugs(client.get("/metrics", REMOTE_ADDR="127.0.0.1")) == {"slo-attainment"}


@override_settings(METRICS_TOKEN=TOKEN, METRICS_ALLOWED_NETWORKS=["127.0.0.1/32"], TRUSTED_PROXY_COUNT=1)
def test_behind_the_proxy_a_client_is_judged_by_its_own_address_not_the_proxys(scored, client):
    proxied = client.get("/metrics", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.9")
    local = client.get("/metrics", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="127.0.0.1")

    assert proxied.status_code == 403
    assert local.status_code == 200
