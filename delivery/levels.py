"""
The team level of the cascade: a team owns repositories (their custom property `team`, kept on every change,
deployment and build GitHub reported), and its KPIs are the company's formulas over its rows (the calculators split by
TEAM_GROUPING), and every KPI recorded at the services it deploys (delivery.dora.team_of_service) pooled over them.
scoring.levels scores them.
"""
import datetime

from django.db.models import Count, F, Sum
from django.db.models.functions import TruncDay

from kpis.calculators.toolkit import company_filter
from kpis.models import Observation

from .dora import DELIVERY_GROUPS, TEAM, team_of_service

TEAM_GROUPING = DELIVERY_GROUPS[TEAM]
# The KPIs whose calculators take the team grouping.
TEAM_KPIS = ("deployment-frequency", "lead-time-for-changes", "change-failure-rate", "build-success-rate")


def team_service_observations(period, company_id):
    """
    {(team, day): {slug: [(severity, count, sum of values)]}} of the observations recorded at the services of each
    team on the days of `period` (per-incident KPIs such as mttr, and what is measured per service, such as SLO
    attainment), from one GROUP BY: what the services' snapshots count, pooled by the team of the service.
    """
    rows = (
        Observation.objects.filter(
            company_filter(company_id), service__isnull=False, observed_at__gte=period.start, observed_at__lt=period.end,
        )
        .exclude(kpi__slug__in=TEAM_KPIS)
        .values(team=team_of_service(), day=TruncDay("observed_at", tzinfo=datetime.timezone.utc),
                slug=F("kpi__slug"), severity=F("incident__severity"))
        .annotate(count=Count("id"), total=Sum("value"))
        .order_by()
    )
    observed = {}
    for row in rows:
        if row["team"]:
            groups = observed.setdefault((row["team"], row["day"].date()), {}).setdefault(row["slug"], [])
            groups.append((row["severity"], row["count"], row["total"]))
    return observed
