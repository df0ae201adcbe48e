"""
The latest scores in the Prometheus text format (`GET /metrics`): for each company, its latest company-level
snapshot's composite, dimension scores and KPI values, and its open breaches per KPI. KPI series are those of
exec-visible KPIs unless the collector is told to include internal ones.
"""
import calendar

from django.db.models import Count, Max, OuterRef, Subquery
from prometheus_client.core import GaugeMetricFamily

from kpis.choices import Visibility
from kpis.models import KpiDefinition
from tenancy.models import Service

from .choices import ScopeLevel
from .models import Breach, ScoreSnapshot


def latest_company_snapshots():
    latest_day = (
        ScoreSnapshot.objects.filter(company=OuterRef("company"), level=ScopeLevel.COMPANY, composite__isnull=False)
        .order_by()
        .values("company")
        .annotate(day=Max("day"))
        .values("day")
    )
    return ScoreSnapshot.objects.filter(level=ScopeLevel.COMPANY, day=Subquery(latest_day)).select_related("company")


class ScoreCollector:
    """A prometheus_client collector reading the database at each scrape."""

    def __init__(self, *, include_internal=False):
        self.include_internal = include_internal

    def collect(self):
        definitions = KpiDefinition.objects.all()
        if not self.include_internal:
            definitions = definitions.filter(visibility=Visibility.EXEC)
        shown = set(definitions.values_list("slug", flat=True))
        composite = GaugeMetricFamily("companyos_composite_score", "Composite health score (0-100), latest day.", labels=["company"])
        dimension = GaugeMetricFamily(
            "companyos_dimension_score", "Dimension score (0-100), latest day.", labels=["company", "dimension"]
        )
        kpi_value = GaugeMetricFamily("companyos_kpi_value", "KPI value in its units, latest day.", labels=["company", "slug"])
        kpi_score = GaugeMetricFamily("companyos_kpi_score", "KPI score (0-100), latest day.", labels=["company", "slug"])
        scored_day = GaugeMetricFamily(
            "companyos_score_day_timestamp_seconds", "Start of the day the latest scores are for.", labels=["company"]
        )
        for snapshot in latest_company_snapshots():
            company = snapshot.company.slug
            composite.add_metric([company], snapshot.composite)
            scored_day.add_metric([company], _epoch(snapshot.day))
            for name, data in snapshot.dimensions.items():
                if data.get("score") is not None:
                    dimension.add_metric([company, name], data["score"])
            for slug, data in snapshot.kpis.items():
                if slug not in shown:
                    continue
                kpi_value.add_metric([company, slug], data["value"])
                if data.get("score") is not None:
                    kpi_score.add_metric([company, slug], data["score"])
        breaches = GaugeMetricFamily("companyos_open_breaches", "Open KPI breaches.", labels=["company", "slug"])
        open_breaches = (
            Breach.objects.filter(closed_at__isnull=True, kpi__slug__in=shown)
            .values("company__slug", "kpi__slug")
            .annotate(count=Count("id"))
            .order_by()
        )
        for row in open_breaches:
            breaches.add_metric([row["company__slug"], row["kpi__slug"]], row["count"])
        # The cascade, as the health model's domain reliability rule joins it (scoring.recording_rules).
        mapping = GaugeMetricFamily(
            "service_domain_mapping", "1 per service, labelled with its domain.", labels=["company", "domain", "service"]
        )
        for row in Service.objects.order_by().values_list("domain__company__slug", "domain__slug", "slug"):
            mapping.add_metric(list(row), 1)
        yield from (composite, dimension, kpi_value, kpi_score, scored_day, breaches, mapping)


def _epoch(day):
    return calendar.timegm(day.timetuple())
