"""
The DORA KPIs, from what GitHub reported: deployment frequency, lead time for changes and build success
rate (efficiency), and change failure rate (reliability). Per company and UTC day, each over a window
ending with the day: 7 days for the efficiency KPIs (a week evens out weekends, as the health model's
7-day lead-time rule does), 30 days for change failure rate (its rule's window; failures are rare).

Production means a deployment to an environment GitHub flags as production (by default, one named
"production"); it counts once it succeeded, at the time it finished.
"""
import datetime

from django.db.models import Avg, Count, Exists, F, IntegerField, OuterRef, Q, Subquery, Value, Window
from django.db.models.functions import Coalesce, RowNumber

from incidents.choices import Severity
from incidents.models import Company, Incident
from kpis.calculators import (
    DAY,
    ONE_DAY,
    ROLLING_WINDOW,
    MinutesBetween,
    _by_company,
    _company_filter,
    _day_rows,
    _one_row,
    calculator,
    evidence,
    percent,
    ratio,
)

from .choices import JUDGED_CONCLUSIONS, BuildConclusion, DeploymentState
from .models import BuildRun, Change, Deployment

DORA_WINDOW = datetime.timedelta(days=7)
CHANGE_FAILURE_WINDOW = ROLLING_WINDOW
# An incident detected later than this after a service's last deployment is not blamed on the deployment.
INCIDENT_LINK_MINUTES = 24 * 60
# Failures users feel; P3/P4 incidents (a full disk, a noisy alert) are not counted as failed changes.
CHANGE_FAILURE_SEVERITIES = (Severity.P1, Severity.P2)


def successful_production_deployments():
    return Deployment.objects.filter(production=True, state=DeploymentState.SUCCESS)


# --- Row queries for any period, shared by the daily calculators and the evidence ---------------------


def deployment_frequency_window(start, end, company_id=None):
    """
    Per company that has reported a production deployment before `end`: `production_deployments` (successful,
    finished in [start, end)) and `deployments_per_day`. A company deploying through GitHub that deployed
    nothing in the period gets 0; one that never reported a deployment gets no row.
    """
    finished = successful_production_deployments().filter(
        company=OuterRef("pk"), finished_at__gte=start, finished_at__lt=end
    )
    count = Subquery(
        finished.order_by().values("company").annotate(n=Count("id")).values("n"), output_field=IntegerField()
    )
    reporting = Deployment.objects.filter(company=OuterRef("pk"), production=True, created_at__lt=end)
    companies = Company.objects.filter(_company_filter(company_id, "pk"), Exists(reporting))
    return companies.order_by().values(obs_company=F("pk")).annotate(
        production_deployments=Coalesce(count, 0),
        deployments_per_day=ratio(F("production_deployments"), Value((end - start) / ONE_DAY)),
    )


def shipped_changes(start, end, company_id=None):
    """
    Changes that reached production in [start, end), with `shipped_at` and `lead_time_hours` (from the first
    commit). A change ships with the first successful production deployment of its service created at or
    after its merge (a deployment created earlier cannot contain it), when that deployment finished.
    """
    shipped_at = Subquery(
        successful_production_deployments()
        .filter(service=OuterRef("service"), created_at__gte=OuterRef("merged_at"))
        .order_by("finished_at")
        .values("finished_at")[:1]
    )
    return (
        Change.objects.filter(_company_filter(company_id), merged_at__lt=end)
        .annotate(shipped_at=shipped_at)
        .filter(shipped_at__gte=start, shipped_at__lt=end)
        .annotate(lead_time_hours=MinutesBetween(F("shipped_at"), F("first_commit_at")) / Value(60.0))
    )


def lead_time_window(start, end, company_id=None):
    """Per company with changes shipped in [start, end): `changes_shipped` and `median_lead_time_hours`."""
    shipped = shipped_changes(start, end, company_id)
    # The median without PERCENTILE_CONT (PostgreSQL only): the mean of the middle one or two by rank.
    ranked = shipped.annotate(
        rank=Window(RowNumber(), partition_by=F("company_id"), order_by=[F("lead_time_hours").asc(), F("pk").asc()]),
        shipped=Window(Count("id"), partition_by=F("company_id")),
    )
    middle = ranked.filter(rank__gte=(F("shipped") + 1) / 2, rank__lte=(F("shipped") + 2) / 2).values("pk")
    return _by_company(shipped).annotate(
        changes_shipped=Count("id"),
        median_lead_time_hours=Avg("lead_time_hours", filter=Q(pk__in=middle)),
    )


def change_failure_window(start, end, company_id=None):
    """
    Per company with successful production deployments finished in [start, end): `production_deployments`,
    `deployments_with_incident` and `change_failure_pct`. A P1 or P2 incident of a service is caused by the
    last successful production deployment of that service finished at or before its detection, when that
    was at most 24 hours earlier (later, or after a newer deployment, it is not the deployment's).
    """
    latest_before_incident = Subquery(
        successful_production_deployments()
        .filter(service=OuterRef("service"), finished_at__lte=OuterRef("detected_at"))
        .order_by("-finished_at", "-pk")
        .values("pk")[:1]
    )
    caused = (
        Incident.objects.filter(
            service=OuterRef("service"),
            severity__in=CHANGE_FAILURE_SEVERITIES,
            detected_at__gte=OuterRef("finished_at"),
        )
        .annotate(
            minutes_after=MinutesBetween(F("detected_at"), OuterRef("finished_at")),
            caused_by=latest_before_incident,
        )
        .filter(minutes_after__lte=INCIDENT_LINK_MINUTES, caused_by=OuterRef("pk"))
    )
    deployments = successful_production_deployments().filter(
        _company_filter(company_id), finished_at__gte=start, finished_at__lt=end
    ).annotate(caused_incident=Exists(caused))
    return _by_company(deployments).annotate(
        production_deployments=Count("id"),
        deployments_with_incident=Count("id", filter=Q(caused_incident=True)),
        change_failure_pct=percent(F("deployments_with_incident"), F("production_deployments")),
    )


def build_window(start, end, company_id=None):
    """
    Per company with builds completed in [start, end): `builds`, `judged_builds` (concluded success, failure,
    timed out or startup failure), `successful_builds` and `build_success_pct` of the judged ones.
    """
    builds = BuildRun.objects.filter(_company_filter(company_id), completed_at__gte=start, completed_at__lt=end)
    return _by_company(builds).annotate(
        builds=Count("id"),
        judged_builds=Count("id", filter=Q(conclusion__in=JUDGED_CONCLUSIONS)),
        successful_builds=Count("id", filter=Q(conclusion=BuildConclusion.SUCCESS)),
        build_success_pct=percent(F("successful_builds"), F("judged_builds")),
    )


# --- Daily calculators ---------------------------------------------------------------------------------


@calculator("deployment-frequency", grain=DAY)
def deployment_frequency_rows(day, company_id=None):
    """Successful production deployments finished in the 7 days ending with the day, divided by 7."""
    window = deployment_frequency_window(day.end - DORA_WINDOW, day.end, company_id)
    return _day_rows(window, day, value=F("deployments_per_day"))


@calculator("lead-time-for-changes", grain=DAY)
def lead_time_for_changes_rows(day, company_id=None):
    """Median hours from first commit to production of the changes shipped in the 7 days ending with the day."""
    window = lead_time_window(day.end - DORA_WINDOW, day.end, company_id)
    return _day_rows(window, day, value=F("median_lead_time_hours"))


@calculator("change-failure-rate", grain=DAY)
def change_failure_rate_rows(day, company_id=None):
    """
    Successful production deployments that caused a P1 or P2 incident / all successful production
    deployments, finished in the 30 days ending with the day, * 100.
    """
    window = change_failure_window(day.end - CHANGE_FAILURE_WINDOW, day.end, company_id)
    return _day_rows(window, day, value=F("change_failure_pct"))


@calculator("build-success-rate", grain=DAY)
def build_success_rate_rows(day, company_id=None):
    """Successful / judged builds completed in the 7 days ending with the day, * 100."""
    window = build_window(day.end - DORA_WINDOW, day.end, company_id)
    return _day_rows(window, day, value=F("build_success_pct"))


# --- Evidence ------------------------------------------------------------------------------------------


@evidence("deployment-frequency", window=DORA_WINDOW)
def deployment_frequency_evidence(company, start, end):
    """Successful production deployments of `company` in [start, end) and their rate per day."""
    return _one_row(
        deployment_frequency_window(start, end, company.pk), "production_deployments", "deployments_per_day"
    )


@evidence("lead-time-for-changes", window=DORA_WINDOW)
def lead_time_for_changes_evidence(company, start, end):
    """Changes of `company` shipped in [start, end) and their median lead time in hours."""
    return _one_row(lead_time_window(start, end, company.pk), "changes_shipped", "median_lead_time_hours")


@evidence("change-failure-rate", window=CHANGE_FAILURE_WINDOW, incidents_by="detected")
def change_failure_rate_evidence(company, start, end):
    """Successful production deployments of `company` in [start, end) and those that caused an incident."""
    return _one_row(
        change_failure_window(start, end, company.pk),
        "production_deployments", "deployments_with_incident", "change_failure_pct",
    )


@evidence("build-success-rate", window=DORA_WINDOW)
def build_success_rate_evidence(company, start, end):
    """Builds of `company` completed in [start, end): all, judged, successful, and the success rate."""
    return _one_row(
        build_window(start, end, company.pk), "builds", "judged_builds", "successful_builds", "build_success_pct"
    )
