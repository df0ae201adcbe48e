"""
The Prometheus connector without a server: API responses as Prometheus writes them, stored through the same
path as the hourly task's; the PromQL on definitions, their validation and admin page; the command; the demo.
"""
import datetime
import json

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.urls import reverse

from companyos.celery import app
from kpis import prometheus
from connectors.choices import EventStatus
from connectors.models import SourceEvent
from demo.sources.prometheus import seed_prometheus
from kpis import services
from kpis.models import KpiDefinition, Observation, PrometheusCollection
from tests.connectors.factories import IntegrationFactory
from tests.helpers import FIXTURES_DIR
from tests.kpis.factories import KpiDefinitionFactory, ObservationFactory
from tests.kpis.helpers import catalogue_definition, collected_from, prometheus_at
from tests.tenancy.factories import CompanyFactory, DomainFactory, ServiceFactory

FIXTURES = FIXTURES_DIR / "prometheus"
DAY_1, DAY_2, DAY_3 = (datetime.datetime(2024, 1, day, tzinfo=datetime.timezone.utc) for day in (14, 15, 16))
FIRST_DAY, AFTER_LAST_DAY = DAY_1.date(), DAY_3.date() + datetime.timedelta(days=1)

pytestmark = pytest.mark.django_db


@pytest.fixture
def acme():
    acme = CompanyFactory(slug="comp-acme")
    commerce = DomainFactory(company=acme, slug="commerce")
    ServiceFactory(domain=commerce, slug="checkout")
    ServiceFactory(domain=commerce, slug="payments")
    ServiceFactory(domain=commerce, slug="api")
    ServiceFactory(domain=DomainFactory(company=acme, slug="platform"), slug="api")
    CompanyFactory(slug="comp-globex")
    return acme


@pytest.fixture
def acme_prometheus(acme):
    """A Prometheus of Acme only: series without a company label are Acme's."""
    return prometheus_at("http://prometheus.acme.internal:9090", name="Acme Prometheus", company=acme)


def backfill(kpi, response, since=FIRST_DAY, until=AFTER_LAST_DAY):
    delivery_id = prometheus.range_delivery_id(kpi, kpi.prometheus, since, until)
    return prometheus.record_response(kpi, delivery_id=delivery_id, event_type="query_range", response=response)


def test_a_backfill_is_stored_per_day_and_service_in_the_kpis_units_skipping_what_cannot_be_stored(acme, acme_prometheus):
    kpi = collected_from(catalogue_definition("infra-utilization"), acme_prometheus)
    checkout = acme.domains.get(slug="commerce").services.get(slug="checkout")
    measured = ObservationFactory(kpi=kpi, company=acme, domain=checkout.domain, service=checkout, observed_at=DAY_1, value=66.0)

    received = backfill(kpi, json.loads((FIXTURES / "query_range_infra_utilization.json").read_text()))

    from_prometheus = Observation.objects.filter(kpi=kpi, source="prometheus").select_related("service")
    collected = {(row.service.slug, row.observed_at): row.value for row in from_prometheus}
    # Ratios become percent; NaN and +Inf are no values; checkout's first day was measured already and stays.
    assert collected == {("checkout", DAY_3): 70.31, ("payments", DAY_1): 55.0, ("payments", DAY_2): 58.0}
    assert Observation.objects.get(pk=measured.pk).value == 66.0
    event = received.event
    assert event.status == EventStatus.PROCESSED and event.produced["already observed"] == 1
    reasons = {json.dumps(entry["series"], sort_keys=True): entry["reason"] for entry in event.produced["skipped"]}
    assert reasons == {
        '{"domain": "commerce", "service": "checkout"}': "NaN is not a value at 2024-01-15T00:00:00+00:00.",
        '{"service": "payments"}': "+Inf is not a value at 2024-01-16T00:00:00+00:00.",
        '{"service": "api"}': "comp-acme has a service 'api' in several domains; add a domain label.",
        '{"company": "comp-globex", "service": "ledger"}':
            "company 'comp-globex' is not comp-acme, the company of this Prometheus.",
    }


def test_a_scalar_is_the_company_value_of_a_prometheus_of_one_company(acme, acme_prometheus):
    kpi = collected_from(catalogue_definition("api-call-volume"), acme_prometheus)

    backfill(kpi, {"status": "success", "data": {"resultType": "scalar", "result": [DAY_1.timestamp(), "0.034"]}},
             until=DAY_2.date())

    observation = Observation.objects.get(kpi=kpi)
    assert (observation.company, observation.domain, observation.service, observation.value) == (acme, None, None, 3.4)


def test_series_that_share_a_scope_are_all_skipped(acme, acme_prometheus):
    kpi = collected_from(catalogue_definition("error-budget-burn-rate"), acme_prometheus)
    by_team = [{"metric": {"team": team}, "values": [[DAY_1.timestamp(), "0.5"]]} for team in ("sre", "payments")]

    received = backfill(kpi, {"status": "success", "data": {"resultType": "matrix", "result": by_team}}, until=DAY_2.date())

    assert received.event.status == EventStatus.IGNORED
    assert 'team="sre"' in received.event.detail and "aggregate them by those labels" in received.event.detail
    assert not Observation.objects.exists()


def test_a_result_that_is_not_numbers_fails_is_kept_and_noted(acme, acme_prometheus):
    kpi = collected_from(catalogue_definition("error-budget-burn-rate"), acme_prometheus)

    with pytest.raises(prometheus.PrometheusError, match="A string result holds no numbers"):
        backfill(kpi, {"status": "success", "data": {"resultType": "string", "result": [DAY_1.timestamp(), "up"]}})

    assert SourceEvent.objects.get().status == EventStatus.FAILED
    assert PrometheusCollection.objects.get(kpi=kpi).consecutive_failures == 1


def test_a_prometheus_needs_a_promql_and_a_promql_alone_is_kept_but_not_collected(acme_prometheus):
    alone = KpiDefinitionFactory(slug="slo-attainment", promql="1 - sum(slo:error_budget_consumed:ratio)")
    assert alone.prometheus is None and not prometheus.collected_definitions().exists()

    with pytest.raises(ValidationError) as refused:
        KpiDefinitionFactory(slug="no-expression", prometheus=acme_prometheus)
    assert "needs the PromQL expression" in str(refused.value.message_dict["promql"])

    collected_from(alone, acme_prometheus)
    assert list(prometheus.collected_definitions()) == [alone]


def test_a_kpi_computed_by_its_calculator_cannot_be_collected_from_prometheus(acme_prometheus, computed_kpis):
    with pytest.raises(ValidationError) as refused:
        services.change_definition(computed_kpis["mttr"], actor=None, reason="Both", prometheus=acme_prometheus,
                                   promql="avg(incident_resolution_seconds)")
    assert "computed by its calculator" in str(refused.value.message_dict["prometheus"])


def test_only_a_prometheus_integration_is_a_prometheus(acme):
    github = IntegrationFactory(kind="github", company=acme)

    with pytest.raises(ValidationError, match="not a Prometheus integration"):
        KpiDefinitionFactory(slug="api-errors", promql="sum(errors)", prometheus=github)


def test_the_catalogue_gives_the_prometheus_kpis_their_promql_but_no_prometheus():
    call_command("kpi", "load-catalogue", verbosity=0)

    with_promql = KpiDefinition.objects.exclude(promql="")
    assert {"slo-attainment", "error-budget-burn-rate", "api-call-volume", "infra-utilization", "mttr"} <= set(
        with_promql.values_list("slug", flat=True))
    assert "sum by (company, service) (slo:error_budget_total:ratio)" in KpiDefinition.objects.get(slug="slo-attainment").promql
    assert not with_promql.filter(prometheus__isnull=False).exists()
    assert not prometheus.collected_definitions().exists()


def test_the_definition_page_shows_how_collection_went(client, superuser, acme, acme_prometheus):
    kpi = collected_from(catalogue_definition("error-budget-burn-rate"), acme_prometheus)
    with pytest.raises(prometheus.PrometheusError):
        backfill(kpi, {"status": "error", "errorType": "timeout", "error": "query timed out in expression evaluation"})
    client.force_login(superuser)

    page = client.get(reverse("admin:kpis_kpidefinition_change", args=[kpi.pk])).content.decode()

    assert "Failing: 1 failure(s) in a row." in page
    assert "query timed out in expression evaluation" in page
    assert reverse("admin:connectors_sourceevent_change", args=[SourceEvent.objects.get().pk]) in page
    assert "sum by (company, service) (slo:error_budget_consumed:ratio)" in page


def test_the_hourly_collection_is_scheduled():
    entry = settings.CELERY_BEAT_SCHEDULE["collect-prometheus-kpis"]
    assert entry["task"] in app.tasks and entry["schedule"].minute == {5}


def test_the_command_names_a_kpi_it_cannot_collect(acme):
    catalogue_definition("slo-attainment")

    with pytest.raises(CommandError, match="'slo-attainment' is not collected"):
        call_command("kpi", "collect-prometheus", "--kpi", "slo-attainment")
    with pytest.raises(CommandError, match="no KPI definition with the slug 'nope'"):
        call_command("kpi", "collect-prometheus", "--kpi", "nope")
    with pytest.raises(CommandError, match="--to needs --from"):
        call_command("kpi", "collect-prometheus", "--to", "2024-01-15")


def test_the_demo_collects_every_day_through_the_connector_and_again_changes_nothing():
    companies = [CompanyFactory(slug="comp-acme"), CompanyFactory(slug="comp-globex")]
    for company in companies:
        domain = DomainFactory(company=company, slug="api-gateway")
        ServiceFactory(domain=domain, slug="gateway")
        ServiceFactory(domain=domain, slug="auth")
    for slug in ("slo-attainment", "error-budget-burn-rate", "infra-utilization", "api-call-volume"):
        catalogue_definition(slug)
    start = datetime.datetime(2024, 1, 1, tzinfo=datetime.timezone.utc)

    summary = seed_prometheus(companies, start, start + datetime.timedelta(days=3), seed=42)

    # 3 per-service KPIs x 4 services and 1 per-company KPI x 2 companies, each day.
    assert summary == {"prometheus events": 12, "prometheus observations": 3 * (3 * 4 + 2), "prometheus KPIs": 4}
    assert Observation.objects.filter(source="prometheus").count() == 42
    slo = Observation.objects.filter(kpi__slug="slo-attainment")
    assert all(0 <= value <= 100 for value in slo.values_list("value", flat=True))
    event = SourceEvent.objects.get(delivery_id__startswith="slo-attainment:", delivery_id__contains="2024-01-02/")
    assert event.payload["data"]["resultType"] == "matrix" and len(event.payload["data"]["result"]) == 4
    assert seed_prometheus(companies, start, start + datetime.timedelta(days=3), seed=42)["prometheus events"] == 0
    assert Observation.objects.filter(source="prometheus").count() == 42
