"""
Data the level and DORA tests share: a team history (GitHub rows of two teams and an incident) and a product history
(imported active users and flag evaluations of three tenants in two cohorts), both ending on DAY.
"""
import datetime
from io import StringIO

from django.core.management import call_command

from connectors.csv_import import import_records
from kpis.choices import ObservationSource
from kpis.models import KpiDefinition
from kpis.observations import compute_observations
from tests.delivery.factories import BuildRunFactory, ChangeFactory, DeploymentFactory
from tests.incidents.factories import IncidentFactory
from tests.kpis.factories import ObservationFactory
from tests.tenancy.factories import ServiceFactory

DAY = datetime.date(2024, 3, 20)


def load_catalogue():
    """The catalogue's definitions, as `kpi load-catalogue` makes them (active, with their targets and weights)."""
    call_command("kpi", "load-catalogue", stdout=StringIO())


def at(day, hour=12):
    return datetime.datetime.combine(day, datetime.time(hour), tzinfo=datetime.timezone.utc)


def team_history(company):
    """
    payments-team deploys its service twice a day for the week ending DAY, ships a change in 8 h 5 min, has one
    build of two succeed, a P3 incident resolved in 45 minutes and an SLO attainment of 99.7 %; search-team deploys
    its service once. Needs the catalogue's definitions. Returns the payments service.
    """
    payments = ServiceFactory(domain__company=company)
    search = ServiceFactory(domain=payments.domain)
    for offset in range(7):  # 14 deployments in the week: 2 a day
        for hour in (9, 15):
            DeploymentFactory(service=payments, team="payments-team", created_at=at(DAY - datetime.timedelta(days=offset), hour),
                              finished_at=at(DAY - datetime.timedelta(days=offset), hour) + datetime.timedelta(minutes=5))
    DeploymentFactory(service=search, team="search-team", created_at=at(DAY, 8), finished_at=at(DAY, 9))
    ChangeFactory(service=payments, team="payments-team", first_commit_at=at(DAY, 1), merged_at=at(DAY, 2))  # ships at 09:05: 8.08 h
    BuildRunFactory(service=payments, team="payments-team", conclusion="success", completed_at=at(DAY, 10))
    BuildRunFactory(service=payments, team="payments-team", conclusion="failure", completed_at=at(DAY, 11))
    IncidentFactory(service=payments, severity="P3", detected_at=at(DAY, 9), resolved_at=at(DAY, 9) + datetime.timedelta(minutes=45))
    compute_observations("mttr", since=DAY, until=DAY + datetime.timedelta(days=1), source=ObservationSource.BACKFILL, run="test")
    # What Prometheus measured at the service: the team pools it too.
    ObservationFactory(kpi=KpiDefinition.objects.get(slug="slo-attainment"), company=company, domain=payments.domain,
                       service=payments, observed_at=at(DAY, 6), value=99.7)
    return payments


def product_history(company):
    """
    Sixty days of imported usage: tenant tnt-1 (Enterprise) active every day, tnt-2 (Enterprise) only in the last
    thirty, tnt-3 (SMB) every day with a second user in the last week; flags split by tenant on the day.
    """
    days = [DAY - datetime.timedelta(days=offset) for offset in range(60)]
    users = []
    for day in days:
        users.append({"date": f"{day}", "tenant_id": "tnt-1", "user_id": "usr-1", "cohort": "Enterprise"})
        users.append({"date": f"{day}", "tenant_id": "tnt-3", "user_id": "usr-3", "cohort": "SMB"})
        if day > DAY - datetime.timedelta(days=30):
            users.append({"date": f"{day}", "tenant_id": "tnt-2", "user_id": "usr-2", "cohort": "Enterprise"})
        if day > DAY - datetime.timedelta(days=7):
            users.append({"date": f"{day}", "tenant_id": "tnt-3", "user_id": "usr-4", "cohort": "SMB"})
    import_records("active-users", company, ["date", "tenant_id", "user_id", "cohort"], users)
    flags = [
        # tenant, cohort, enabled contexts, disabled contexts
        ("tnt-1", "Enterprise", 8, 2), ("tnt-2", "Enterprise", 2, 8), ("tnt-3", "SMB", 1, 3),
    ]
    import_records("feature-flags", company, ["date", "flag_key", "variation", "result", "evaluations", "contexts", "tenant_id", "cohort"], [
        {"date": f"{DAY}", "flag_key": "new-checkout-flow", "variation": variation, "result": result, "evaluations": contexts,
         "contexts": contexts, "tenant_id": tenant, "cohort": cohort}
        for tenant, cohort, enabled, disabled in flags
        for variation, result, contexts in (("true", "enabled", enabled), ("false", "disabled", disabled))
    ])


