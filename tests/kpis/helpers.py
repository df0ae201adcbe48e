"""Helpers the registry's Prometheus tests share: catalogue definitions, Prometheus integrations, and the one to the other."""
from connectors.models import Integration
from connectors.services import save_integration
from kpis import services
from kpis.catalogue import read_catalogue


def catalogue_definition(slug):
    """The catalogue's definition of `slug`, with its PromQL, created through the audited service."""
    entry = next(entry for entry in read_catalogue() if entry["slug"] == slug)
    return services.create_definition(actor=None, reason="From the catalogue", **entry)


def prometheus_at(url, name="Prometheus", **fields):
    return save_integration(Integration(kind="prometheus", name=name, url=url, **fields), actor=None, reason="Monitoring")


def collected_from(kpi, integration):
    return services.change_definition(kpi, actor=None, reason="Collected from Prometheus", prometheus=integration)
