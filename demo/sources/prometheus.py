"""
Demo data of the Prometheus connector: what a Prometheus serving the demo companies answers, a day at a time,
to the PromQL of each KPI the health model sources from Prometheus, fed through the connector's own path
(kpis.prometheus.record_response, as a backfill's `query_range` response) without HTTP.

Values wander around each KPI's target as the other demo series do (demo.values), deterministically from the seed.
"""
import datetime
import random

from django.core.exceptions import ValidationError

from connectors.choices import IntegrationKind
from connectors.models import Integration
from connectors.services import save_integration
from kpis import prometheus
from kpis import services as kpi_services
from kpis.models import KpiDefinition

from ..registry import demo_source
from ..values import wandering_values

DEMO_PROMETHEUS = {"name": "Demo Prometheus", "url": "http://prometheus.demo:9090"}
DEMO_REASON = "Demo data: collected from the demo Prometheus"

# The KPIs the health model sources from Prometheus, and whether their PromQL gives a series per service
# or per company (as the catalogue's expressions group them).
PER_SERVICE, PER_COMPANY = "service", "company"
DEMO_KPIS = {
    "slo-attainment": PER_SERVICE,
    "error-budget-burn-rate": PER_SERVICE,
    "infra-utilization": PER_SERVICE,
    "api-call-volume": PER_COMPANY,
}


@demo_source("prometheus", order=10)
def seed_prometheus(companies, start, end, seed):
    """
    Collect the demo companies' Prometheus KPIs for every day of [start, end) from generated responses.

    `companies` are Company rows with their domains and services. Returns counts of what was done.
    """
    integration = _demo_integration()
    definitions = _demo_definitions(integration)
    first, after_last = (moment.astimezone(datetime.timezone.utc).date() for moment in (start, end))
    days = [first + datetime.timedelta(days=n) for n in range((after_last - first).days)]
    series = {
        kpi.slug: [
            (labels, _samples(kpi, random.Random(f"{seed}:prometheus:{kpi.slug}:{':'.join(labels.values())}"), len(days)))
            for labels in _label_sets(companies, DEMO_KPIS[kpi.slug])
        ]
        for kpi in definitions
    }
    summary = {"prometheus events": 0, "prometheus observations": 0, "prometheus KPIs": len(definitions)}
    for number, day in enumerate(days):
        timestamp = int(datetime.datetime.combine(day, datetime.time.min, tzinfo=datetime.timezone.utc).timestamp())
        for kpi in definitions:
            result = [{"metric": labels, "values": [[timestamp, samples[number]]]} for labels, samples in series[kpi.slug]]
            response = {"status": "success", "data": {"resultType": "matrix", "result": result}}
            received = prometheus.record_response(
                kpi,
                delivery_id=prometheus.range_delivery_id(kpi, integration, day, day + prometheus.DAY),
                event_type="query_range",
                response=response,
            )
            if received.created:
                summary["prometheus events"] += 1
                summary["prometheus observations"] += len(received.event.produced.get("kpis.observation", []))
    return summary


def _demo_integration():
    integration = Integration.objects.filter(kind=IntegrationKind.PROMETHEUS, name=DEMO_PROMETHEUS["name"]).first()
    if integration is None:
        integration = save_integration(
            Integration(kind=IntegrationKind.PROMETHEUS, **DEMO_PROMETHEUS), actor=None, reason=DEMO_REASON
        )
    return integration


def _demo_definitions(integration):
    """The demo KPIs the registry has with a PromQL, set to be collected from the demo Prometheus."""
    definitions = []
    for kpi in KpiDefinition.objects.filter(slug__in=DEMO_KPIS).exclude(promql="").order_by("slug"):
        if kpi.target is None or kpi.critical_threshold is None:
            continue  # no target to place demo values around
        try:
            definitions.append(kpi_services.change_definition(kpi, actor=None, reason=DEMO_REASON, prometheus=integration))
        except ValidationError:
            continue  # e.g. computed by a calculator: not collected from Prometheus
    return definitions


def _label_sets(companies, grain):
    for company in companies:
        if grain == PER_COMPANY:
            yield {"company": company.slug}
            continue
        for domain in company.domains.order_by("slug"):
            for service in domain.services.order_by("slug"):
                yield {"company": company.slug, "domain": domain.slug, "service": service.slug}


def _samples(kpi, rng, count):
    """`count` daily samples as Prometheus gives them (base units, numbers as strings), wandering around the target."""
    per_base_unit = prometheus.FROM_BASE_UNITS.get(kpi.units, 1)
    return [repr(round(value / per_base_unit, 6)) for value in wandering_values(kpi, rng, count)]
