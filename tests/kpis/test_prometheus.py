"""
The Prometheus connector against a real Prometheus (Debian's /usr/bin/prometheus, one per module) that scrapes
a fixture of SLO error-budget series and our own /metrics, and answers the hourly task's queries.
"""
import datetime
import json
import shutil
import subprocess
import threading
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import yaml
from celery.exceptions import Retry
from django.core.management import CommandError, call_command
from pytest_django.live_server_helper import LiveServer

from kpis import prometheus
from connectors.choices import EventStatus
from connectors.models import SourceEvent
from connectors.services import event_run, save_integration
from kpis.tasks.prometheus import collect_prometheus_kpi, collect_prometheus_kpis
from kpis.catalogue import read_catalogue
from kpis.models import Observation, PrometheusCollection
from scoring.services import compute_snapshots
from tests.helpers import FIXTURES_DIR, free_port, stored, wait_for
from tests.kpis.factories import KpiDefinitionFactory, ObservationFactory
from tests.kpis.helpers import catalogue_definition, collected_from, prometheus_at
from tests.tenancy.factories import CompanyFactory, DomainFactory, ServiceFactory

PROMETHEUS = "/usr/bin/prometheus"
FIXTURE = FIXTURES_DIR / "prometheus" / "slo_error_budget.prom"
TOKEN = "prometheus-proxy-token"

pytestmark = [pytest.mark.slow, pytest.mark.django_db]


class FixtureTarget(BaseHTTPRequestHandler):
    """Serves the fixture metrics to Prometheus, and plays a token-checking proxy in front of a Prometheus API."""

    def do_GET(self):
        body = FIXTURE.read_bytes()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; version=0.0.4")
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        form = urllib.parse.parse_qs(self.rfile.read(int(self.headers["Content-Length"])).decode())
        if self.headers.get("Authorization") != f"Bearer {TOKEN}":
            self.send_response(401)
            self.end_headers()
            self.wfile.write(b"Unauthorized\n")
            return
        sample = {"metric": {"company": "comp-acme"}, "value": [float(form["time"][0]), "0.42"]}
        body = json.dumps({"status": "success", "data": {"resultType": "vector", "result": [sample]}}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def api_query(base_url, promql):
    with urllib.request.urlopen(f"{base_url}/api/v1/query?{urllib.parse.urlencode({'query': promql})}", timeout=5) as answer:
        return json.load(answer)


@pytest.fixture(scope="module")
def fixture_target():
    server = ThreadingHTTPServer(("127.0.0.1", 0), FixtureTarget)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def portal(django_db_setup):
    """Our own server, for its /metrics. Not pytest-django's live_server, which would make every test here
    transactional: only the test that needs its data committed is."""
    server = LiveServer("127.0.0.1")
    yield server.url
    server.stop()


@pytest.fixture(scope="module")
def prometheus_url(fixture_target, portal, tmp_path_factory):
    """A real Prometheus scraping the fixture and our /metrics every second, once it has the fixture's samples."""
    assert shutil.which(PROMETHEUS), "Debian's prometheus package provides /usr/bin/prometheus (.ci/setup)"
    workdir = tmp_path_factory.mktemp("prometheus")
    config = {
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
        "scrape_configs": [
            {"job_name": "slo", "static_configs": [{"targets": [fixture_target.removeprefix("http://")]}]},
            {"job_name": "companyos", "static_configs": [{"targets": [portal.removeprefix("http://")]}]},
        ],
    }
    (workdir / "prometheus.yml").write_text(yaml.safe_dump(config))
    port = free_port()
    with open(workdir / "prometheus.log", "wb") as log:
        process = subprocess.Popen(
            [PROMETHEUS, f"--config.file={workdir / 'prometheus.yml'}", f"--storage.tsdb.path={workdir / 'data'}",
             f"--web.listen-address=127.0.0.1:{port}", "--log.level=warn"],
            stdout=log, stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: api_query(url, "slo:error_budget_total:ratio")["data"]["result"], "no fixture samples")
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture
def cascade():
    """Companies and services named by the fixture's labels (comp-initech and acme's search are not ours)."""
    acme, globex = CompanyFactory(slug="comp-acme"), CompanyFactory(slug="comp-globex")
    commerce = DomainFactory(company=acme, slug="commerce")
    return {
        "acme": acme,
        "checkout": ServiceFactory(domain=commerce, slug="checkout"),
        "payments": ServiceFactory(domain=commerce, slug="payments"),
        "ledger": ServiceFactory(domain=DomainFactory(company=globex, slug="finance"), slug="ledger"),
    }


def now():
    """The next whole second: after every sample so far, as the start of the hour is in production."""
    return (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=1)).replace(microsecond=0)


def values_by_service(kpi):
    return {row.service.slug: row.value for row in Observation.objects.filter(kpi=kpi).select_related("service")}


def test_the_hourly_task_writes_slo_attainment_and_burn_rate_per_service_from_prometheus(prometheus_url, cascade):
    server = prometheus_at(prometheus_url)
    attainment = collected_from(catalogue_definition("slo-attainment"), server)
    burn_rate = collected_from(catalogue_definition("error-budget-burn-rate"), server)
    at = now()

    assert collect_prometheus_kpis.delay(at.isoformat()).get() == 2

    # 1 - consumed / total as a percent; burn rate consumed / total as is. Payments has spent 2.5x its budget,
    # an attainment of -150 %, which a percent cannot be: skipped, never clamped.
    assert values_by_service(attainment) == pytest.approx({"checkout": 60.0, "ledger": 80.0})
    assert values_by_service(burn_rate) == pytest.approx({"checkout": 0.4, "payments": 2.5, "ledger": 0.2})
    checkout = Observation.objects.get(kpi=attainment, service=cascade["checkout"])
    assert (checkout.company, checkout.domain, checkout.observed_at, checkout.source) == (
        cascade["acme"], cascade["checkout"].domain, at, "prometheus"
    )
    event = SourceEvent.objects.get(delivery_id=prometheus.query_delivery_id(attainment, server, at))
    assert checkout.run == event_run(event)
    assert (event.source, event.event_type, event.integration) == ("prometheus", "query", server)
    assert event.status == EventStatus.PROCESSED
    assert event.payload["data"]["resultType"] == "vector"
    assert event.produced["kpis.observation"] == sorted(Observation.objects.filter(kpi=attainment).values_list("pk", flat=True))
    reasons = {entry["series"].get("service"): entry["reason"] for entry in event.produced["skipped"]}
    assert "outside 0-100" in reasons["payments"]
    assert reasons["search"] == "comp-acme has no service 'search'."
    assert reasons["tps-reports"] == "There is no company 'comp-initech'."
    collection = PrometheusCollection.objects.get(kpi=attainment)
    assert collection.last_event == event and collection.last_success_at and collection.consecutive_failures == 0


def test_evaluating_the_same_hour_again_changes_nothing(prometheus_url, cascade):
    burn_rate = collected_from(catalogue_definition("error-budget-burn-rate"), prometheus_at(prometheus_url))
    at = now()
    first = collect_prometheus_kpi.delay(burn_rate.pk, at.isoformat()).get()
    rows = list(Observation.objects.values_list("pk", "value", "computed_at"))

    again = collect_prometheus_kpi.delay(burn_rate.pk, at.isoformat()).get()

    assert again == {"event": first["event"], "created": False}
    assert list(Observation.objects.values_list("pk", "value", "computed_at")) == rows
    assert SourceEvent.objects.count() == 1


def test_a_promql_error_is_noted_on_the_definition_retried_and_writes_nothing(prometheus_url, cascade):
    kpi = KpiDefinitionFactory(slug="slo-typo", units="percent", direction="higher", target=99.9, critical_threshold=99.5,
                               promql="1 - (sum by (service (slo:error_budget_consumed:ratio))")
    kpi = collected_from(kpi, prometheus_at(prometheus_url))

    with pytest.raises(Retry) as retry:
        collect_prometheus_kpi.delay(kpi.pk, now().isoformat())

    assert isinstance(retry.value.exc, prometheus.PrometheusError) and "bad_data" in str(retry.value.exc)
    collection = PrometheusCollection.objects.get(kpi=kpi)
    assert collection.consecutive_failures == 1
    assert "parse error" in collection.last_error and collection.last_success_at is None
    event = SourceEvent.objects.get()
    assert event.status == EventStatus.FAILED and event.payload["errorType"] == "bad_data"
    assert collection.last_event == event
    assert not Observation.objects.exists()


def test_an_unreachable_prometheus_is_noted_retried_and_writes_nothing_until_it_answers(prometheus_url, cascade):
    server = prometheus_at(f"http://127.0.0.1:{free_port()}")
    kpi = collected_from(catalogue_definition("error-budget-burn-rate"), server)
    at = now()

    for _ in range(2):
        with pytest.raises(Retry) as retry:
            collect_prometheus_kpi.delay(kpi.pk, at.isoformat())
        # Retried later: a countdown drawn (jitter) within the first retry's backoff of 60 s; 0 is a possible draw.
        assert retry.value.when is not None and 0 <= retry.value.when <= 60

    assert "could not be queried" in str(retry.value.exc)
    collection = PrometheusCollection.objects.get(kpi=kpi)
    assert collection.consecutive_failures == 2
    assert "Connection refused" in collection.last_error
    assert not Observation.objects.exists() and not SourceEvent.objects.exists()

    server.url = prometheus_url
    save_integration(server, actor=None, reason="Moved")
    collect_prometheus_kpi.delay(kpi.pk, at.isoformat())
    assert stored(collection).consecutive_failures == 0
    assert Observation.objects.filter(kpi=kpi).count() == 3


def test_the_bearer_token_of_the_integration_is_sent(fixture_target, cascade):
    kpi = KpiDefinitionFactory(slug="proxy-ratio", units="ratio", direction="lower", target=1, critical_threshold=6,
                               promql="sum by (company) (proxied:ratio)")
    kpi = collected_from(kpi, prometheus_at(fixture_target, name="Behind a proxy", secret=TOKEN))

    prometheus.collect(kpi, at=now())

    assert Observation.objects.get(kpi=kpi).value == 0.42
    wrong = prometheus_at(fixture_target, name="Wrong token", secret="not-the-token")
    kpi = collected_from(kpi, wrong)
    with pytest.raises(prometheus.PrometheusError, match="HTTP 401"):
        prometheus.collect(kpi, at=now())


def test_every_promql_of_the_catalogue_is_valid_for_prometheus(prometheus_url):
    expressions = {entry["slug"]: entry["promql"] for entry in read_catalogue() if entry.get("promql")}

    assert {"slo-attainment", "error-budget-burn-rate", "api-call-volume", "infra-utilization"} <= set(expressions)
    refused = {slug: answer.get("error") for slug, promql in expressions.items()
               if (answer := api_query(prometheus_url, promql))["status"] != "success"}
    assert refused == {}


def test_a_backfill_asks_query_range_for_each_day_and_keeps_the_answer(prometheus_url, cascade, capsys):
    kpi = collected_from(catalogue_definition("slo-attainment"), prometheus_at(prometheus_url))
    two_days_ago = (now() - datetime.timedelta(days=2)).date().isoformat()

    call_command("kpi", "collect-prometheus", "--kpi", "slo-attainment", "--from", two_days_ago)

    event = SourceEvent.objects.get()
    assert event.event_type == "query_range" and event.payload["data"]["resultType"] == "matrix"
    # Prometheus started minutes ago: it has nothing at 00:00 of the last two days.
    assert event.status == EventStatus.IGNORED and event.detail == "The query returned no series."
    assert "slo-attainment: ignored" in capsys.readouterr().out
    call_command("kpi", "collect-prometheus", "--kpi", "slo-attainment", "--from", two_days_ago)
    assert "evaluated before" in capsys.readouterr().out
    assert SourceEvent.objects.count() == 1
    assert stored(kpi).prometheus_collection.consecutive_failures == 0


def test_the_command_fails_naming_the_kpis_that_failed(prometheus_url, cascade):
    kpi = collected_from(catalogue_definition("error-budget-burn-rate"), prometheus_at(f"http://127.0.0.1:{free_port()}"))

    with pytest.raises(CommandError, match="Collection failed for error-budget-burn-rate"):
        call_command("kpi", "collect-prometheus")

    assert stored(kpi).prometheus_collection.consecutive_failures == 1


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_our_own_scores_come_back_through_prometheus(prometheus_url):
    # Committed, so the live server that Prometheus scrapes sees it.
    company = CompanyFactory(slug="comp-acme")
    slo = KpiDefinitionFactory(slug="slo-attainment", units="percent", direction="higher", target=99.9,
                               critical_threshold=99.5, dimension="reliability", weight=30)
    scored_day = datetime.datetime(2024, 1, 15, tzinfo=datetime.timezone.utc)
    ObservationFactory(kpi=slo, company=company, value=99.7, observed_at=scored_day)
    compute_snapshots(scored_day.date())
    wait_for(lambda: api_query(prometheus_url, 'companyos_composite_score{company="comp-acme"}')["data"]["result"],
             "our composite score not scraped")
    health = KpiDefinitionFactory(slug="health-score", units="score", direction="higher", target=80, critical_threshold=40,
                                  weight=0, promql="max by (company) (companyos_composite_score)")
    health = collected_from(health, prometheus_at(prometheus_url))

    prometheus.collect(health, at=now())

    observation = Observation.objects.get(kpi=health)
    assert (observation.company, observation.domain, observation.value) == (company, None, pytest.approx(50.0))
