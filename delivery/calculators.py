"""
The DORA KPIs, from what GitHub reported: deployment frequency, lead time for changes and build success
rate (efficiency), and change failure rate (reliability). Per company and UTC day, each over a window
ending with the day: 7 days for the efficiency KPIs (a week evens out weekends, as the health model's
7-day lead-time rule does), 30 days for change failure rate (its rule's window; failures are rare).

Production means a deployment to an environment GitHub flags as production (by default, one named
"production"); it counts once it succeeded, at the time it finished.
"""
import datetime

from django.db.models import Count, Exists, F, Min, OuterRef, Q, Subquery, Value

from incidents.choices import Severity
from incidents.models import Incident
from kpis.calculators import DAY, ONE_DAY, ROLLING_WINDOW, RowsSQL, calculator, computed_from, evidence
from kpis.calculators.toolkit import DailyTotals, MinutesBetween, WindowFigures, company_filter, span, windows_sql

from .choices import JUDGED_CONCLUSIONS, BuildConclusion, DeploymentState
from .models import BuildRun, Change, Deployment

computed_from(__name__, "GitHub's changes, deployments and builds: send GitHub's webhooks to /api/webhooks/github/{integration}/")

DORA_WINDOW = datetime.timedelta(days=7)
CHANGE_FAILURE_WINDOW = ROLLING_WINDOW
# An incident detected later than this after a service's last deployment is not blamed on the deployment.
INCIDENT_LINK = datetime.timedelta(hours=24)
# Failures users feel; P3/P4 incidents (a full disk, a noisy alert) are not counted as failed changes.
CHANGE_FAILURE_SEVERITIES = (Severity.P1, Severity.P2)


def successful_production_deployments():
    return Deployment.objects.filter(production=True, state=DeploymentState.SUCCESS)


# --- Figures over any windows, shared by the daily calculators and the evidence -----------------------------


def _finished_deployments(start, end, company_id):
    return successful_production_deployments().filter(company_filter(company_id), finished_at__gte=start, finished_at__lt=end)


def _deploying_companies(company_id):
    """Companies that have reported a production deployment, `since` the first was created."""
    deployments = Deployment.objects.filter(company_filter(company_id), production=True)
    return deployments.order_by().values(obs_company=F("company_id")).annotate(since=Min("created_at"))


# Successful production deployments finished in a window: a company deploying through GitHub that deployed
# nothing in it has 0; one that never reported a production deployment has no figures.
PRODUCTION_DEPLOYMENTS = DailyTotals(
    counted=_finished_deployments,
    time_field="finished_at",
    totals={"production_deployments": Count("id")},
    figures={},
    window=DORA_WINDOW,
    reporting=_deploying_companies,
)


def _finished_deployments_and_failures(start, end, company_id):
    """
    The successful production deployments finished in [start, end), each with `caused_incident`. A P1 or P2 incident
    of a service is caused by the last successful production deployment of that service finished at or before its
    detection, when that was at most 24 hours earlier (later, or after a newer deployment, it is not the deployment's).
    """
    # Each deployment looks for such an incident in the 24 hours after it (the incidents' (service, detected_at)
    # index) for which no newer deployment of the service came first (the deployments' (service, finished_at) index).
    # Asked the other way round, each incident naming its cause, PostgreSQL tested every deployment against the
    # list of all P1/P2 incidents of the period once that list outgrew its memory for hashing (119 s at 10M alerts).
    newer_deployment = successful_production_deployments().filter(
        Q(finished_at__gt=OuterRef(OuterRef("finished_at"))) | Q(finished_at=OuterRef(OuterRef("finished_at")), pk__gt=OuterRef(OuterRef("pk"))),
        service=OuterRef("service"),
        finished_at__lte=OuterRef("detected_at"),
    )
    caused = Incident.objects.filter(
        service=OuterRef("service"),
        severity__in=CHANGE_FAILURE_SEVERITIES,
        detected_at__gte=OuterRef("finished_at"),
        detected_at__lte=OuterRef("finished_at") + INCIDENT_LINK,
    ).filter(~Exists(newer_deployment))
    return _finished_deployments(start, end, company_id).alias(caused_incident=Exists(caused))


CHANGE_FAILURES = DailyTotals(
    counted=_finished_deployments_and_failures,
    time_field="finished_at",
    totals={
        "production_deployments": Count("id"),
        "deployments_with_incident": Count("id", filter=Q(caused_incident=True)),
    },
    figures={"change_failure_pct": "100.0 * deployments_with_incident / NULLIF(production_deployments, 0)"},
    window=CHANGE_FAILURE_WINDOW,
)


def _completed_builds(start, end, company_id):
    return BuildRun.objects.filter(company_filter(company_id), completed_at__gte=start, completed_at__lt=end)


# Builds completed in a window: all, judged (concluded success, failure, timed out or startup failure), successful,
# and the success rate of the judged ones.
BUILDS = DailyTotals(
    counted=_completed_builds,
    time_field="completed_at",
    totals={
        "builds": Count("id"),
        "judged_builds": Count("id", filter=Q(conclusion__in=JUDGED_CONCLUSIONS)),
        "successful_builds": Count("id", filter=Q(conclusion=BuildConclusion.SUCCESS)),
    },
    figures={"build_success_pct": "100.0 * successful_builds / NULLIF(judged_builds, 0)"},
    window=DORA_WINDOW,
)


def merged_changes(end, company_id=None):
    """
    Changes merged before `end`, with `shipped_at` and `lead_time_hours` (from the first commit) once they reached
    production. A change ships with the first successful production deployment of its service created at or after
    its merge (a deployment created earlier cannot contain it), when that deployment finished.
    """
    shipped_at = Subquery(
        successful_production_deployments()
        .filter(service=OuterRef("service"), created_at__gte=OuterRef("merged_at"))
        .order_by("finished_at")
        .values("finished_at")[:1]
    )
    return (
        Change.objects.filter(company_filter(company_id), merged_at__lt=end)
        .annotate(shipped_at=shipped_at)
        .annotate(lead_time_hours=MinutesBetween(F("shipped_at"), F("first_commit_at")) / Value(60.0))
    )


class ShippedChanges(WindowFigures):
    """
    Per company (or a Grouping's key) and window with changes shipped in it (merged before its end): `changes_shipped`
    and `median_lead_time_hours`.
    """

    window = DORA_WINDOW

    def sql(self, windows, company_id=None, group=None):
        changes = merged_changes(span(windows)[1], company_id).order_by()
        changes_sql, changes_params = changes.values(
            "id", "merged_at", "shipped_at", "lead_time_hours", obs_company=group.key if group else F("company_id")
        ).query.sql_with_params()
        windows_table, windows_params = windows_sql(windows)
        # MATERIALIZED: the changes and their shipping deployments are read once, not again for each window they lie in.
        # The median without PERCENTILE_CONT (PostgreSQL only): the mean of the middle one or two by rank.
        sql = f"""
            WITH changes AS MATERIALIZED ({changes_sql})
            SELECT obs_company, obs_window, COUNT(*) AS changes_shipped,
                   AVG(CASE WHEN position >= (shipped + 1) / 2 AND position <= (shipped + 2) / 2 THEN lead_time_hours END)
                       AS median_lead_time_hours
            FROM (
                SELECT changes.obs_company, windows.label AS obs_window, changes.lead_time_hours,
                       ROW_NUMBER() OVER (
                           PARTITION BY changes.obs_company, windows.label ORDER BY changes.lead_time_hours, changes.id
                       ) AS position,
                       COUNT(*) OVER (PARTITION BY changes.obs_company, windows.label) AS shipped
                FROM ({windows_table}) AS windows
                JOIN changes ON changes.shipped_at >= windows.starts
                    AND changes.shipped_at < windows.ends AND changes.merged_at < windows.ends
            ) AS ranked
            GROUP BY obs_company, obs_window
        """
        return RowsSQL(sql, [*changes_params, *windows_params])


SHIPPED_CHANGES = ShippedChanges()


# --- Daily calculators ---------------------------------------------------------------------------------


@calculator("deployment-frequency", grain=DAY, many_days=True)
def deployment_frequency_rows(period, company_id=None, group=None):
    """Successful production deployments finished in the 7 days ending with each day, divided by 7."""
    return PRODUCTION_DEPLOYMENTS.day_rows(period, company_id, f"production_deployments / {DORA_WINDOW / ONE_DAY}", group)


@calculator("lead-time-for-changes", grain=DAY, many_days=True)
def lead_time_for_changes_rows(period, company_id=None, group=None):
    """Median hours from first commit to production of the changes shipped in the 7 days ending with each day."""
    return SHIPPED_CHANGES.day_rows(period, company_id, "median_lead_time_hours", group)


@calculator("change-failure-rate", grain=DAY, many_days=True)
def change_failure_rate_rows(period, company_id=None, group=None):
    """
    Successful production deployments that caused a P1 or P2 incident / all successful production
    deployments, finished in the 30 days ending with each day, * 100.
    """
    return CHANGE_FAILURES.day_rows(period, company_id, "change_failure_pct", group)


@calculator("build-success-rate", grain=DAY, many_days=True)
def build_success_rate_rows(period, company_id=None, group=None):
    """Successful / judged builds completed in the 7 days ending with each day, * 100."""
    return BUILDS.day_rows(period, company_id, "build_success_pct", group)


# --- Evidence ------------------------------------------------------------------------------------------


@evidence("deployment-frequency", window=DORA_WINDOW)
def deployment_frequency_evidence(company, start, end):
    """Successful production deployments of `company` in [start, end) and their rate per day."""
    row = PRODUCTION_DEPLOYMENTS.figures_of(company, start, end, "production_deployments")
    if row is not None:
        row["deployments_per_day"] = row["production_deployments"] / ((end - start) / ONE_DAY)
    return row


@evidence("lead-time-for-changes", window=DORA_WINDOW)
def lead_time_for_changes_evidence(company, start, end):
    """Changes of `company` shipped in [start, end) and their median lead time in hours."""
    return SHIPPED_CHANGES.figures_of(company, start, end, "changes_shipped", "median_lead_time_hours")


@evidence("change-failure-rate", window=CHANGE_FAILURE_WINDOW, incidents_by="detected")
def change_failure_rate_evidence(company, start, end):
    """Successful production deployments of `company` in [start, end) and those that caused an incident."""
    return CHANGE_FAILURES.figures_of(
        company, start, end, "production_deployments", "deployments_with_incident", "change_failure_pct"
    )


@evidence("build-success-rate", window=DORA_WINDOW)
def build_success_rate_evidence(company, start, end):
    """Builds of `company` completed in [start, end): all, judged, successful, and the success rate."""
    return BUILDS.figures_of(company, start, end, "builds", "judged_builds", "successful_builds", "build_success_pct")
