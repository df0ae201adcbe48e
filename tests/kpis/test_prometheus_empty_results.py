"""
A query that returns no series yet is evaluated again, like a failed one, until the time it evaluates is
settings.PROMETHEUS_EMPTY_RESULT_RETRY old; then an empty result is final. Against a Prometheus stand-in that
answers nothing until its data "arrives".
"""
import datetime
import json
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.utils import timezone

from connectors.choices import EventStatus
from connectors.models import SourceEvent
from kpis import prometheus
from kpis.models import Observation, PrometheusCollection
from kpis.tasks.prometheus import collect_prometheus_kpis
from tests.kpis.factories import KpiDefinitionFactory
from tests.kpis.helpers import collected_from, prometheus_at
from tests.tenancy.factories import CompanyFactory

pytestmark = pytest.mark.django_db

HOUR = datetime.timedelta(hours=1)


class LateData(BaseHTTPRequestHandler):
    """Prometheus' query API answering an empty vector until `server.arrived`, then comp-acme's value at the time asked."""

    def do_POST(self):
        form = urllib.parse.parse_qs(self.rfile.read(int(self.headers["Content-Length"])).decode())
        samples = [{"metric": {"company": "comp-acme"}, "value": [float(form["time"][0]), "7"]}] if self.server.arrived else []
        body = json.dumps({"status": "success", "data": {"resultType": "vector", "result": samples}}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def late_prometheus():
    server = ThreadingHTTPServer(("127.0.0.1", 0), LateData)
    server.arrived = False
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def kpi(late_prometheus):
    CompanyFactory(slug="comp-acme")
    integration = prometheus_at(f"http://127.0.0.1:{late_prometheus.server_address[1]}")
    definition = KpiDefinitionFactory(slug="queue-depth", units="count", weight=0, promql="sum by (company) (queue_depth)")
    return collected_from(definition, integration)


def test_an_empty_hour_is_retried_by_the_hourly_run_and_stored_once_the_data_arrives(kpi, late_prometheus):
    this_hour = prometheus.start_of_hour(timezone.now())
    last_hour = this_hour - HOUR

    with pytest.raises(prometheus.PrometheusError, match="no series yet"):
        prometheus.collect(kpi, at=last_hour)

    event = SourceEvent.objects.get()
    assert event.status == EventStatus.FAILED and "evaluated again until" in event.detail
    assert PrometheusCollection.objects.get(kpi=kpi).consecutive_failures == 1
    assert prometheus.failed_hours([kpi], now=this_hour) == [(kpi, last_hour)]

    late_prometheus.arrived = True
    assert collect_prometheus_kpis.delay(this_hour.isoformat()).get() == 2  # this hour and the empty one

    assert sorted(Observation.objects.filter(kpi=kpi).values_list("observed_at", "value")) == [(last_hour, 7.0), (this_hour, 7.0)]
    assert SourceEvent.objects.get(pk=event.pk).status == EventStatus.PROCESSED
    assert prometheus.failed_hours([kpi], now=this_hour) == []


def test_an_empty_result_older_than_the_retry_age_is_final(kpi, settings):
    settings.PROMETHEUS_EMPTY_RESULT_RETRY = 3 * HOUR
    this_hour = prometheus.start_of_hour(timezone.now())
    long_ago = this_hour - 4 * HOUR

    received = prometheus.collect(kpi, at=long_ago)

    assert (received.event.status, received.event.detail) == (EventStatus.IGNORED, "The query returned no series.")
    with pytest.raises(prometheus.PrometheusError):
        prometheus.collect(kpi, at=this_hour - 2 * HOUR)
    # Only the failed hour within the age is evaluated again; the ignored one is not.
    assert prometheus.failed_hours([kpi], now=this_hour) == [(kpi, this_hour - 2 * HOUR)]
