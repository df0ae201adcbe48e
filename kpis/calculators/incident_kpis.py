"""
The formulas of the KPIs computed from incident data (incidents, phases, milestones, surveys, alerts, runbook
runs), and the evidence behind their daily company values. Patch compliance, whose per-instance scans live in
`security`, is computed there (security.patch_compliance).
"""
from django.db.models import (
    Avg,
    Case,
    Count,
    DateTimeField,
    F,
    FloatField,
    Max,
    Min,
    OuterRef,
    Q,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Cast, Coalesce
from django.utils import timezone

from incidents.choices import Phase, Severity
from incidents.models import (
    Alert,
    Incident,
    Milestone,
    PhaseTransition,
    RunbookExecution,
    SurveyResponse,
)

from .registry import DAY, INCIDENT, ROLLING_WINDOW, Period, calculator, computed_from, evidence
from .toolkit import (
    DailyTotals,
    MinutesBetween,
    by_company,
    by_company_and_day,
    company_filter,
    company_rows,
    in_period,
    incident_rows,
    indexed_company_filter,
    one_row,
    percent,
    ratio,
)

computed_from(
    __name__,
    "incidents and alerts: send incidents to /api/incidents/ (their phases, milestones and survey responses to "
    "/api/incidents/{id}/...), alerts to /api/alerts/ or /api/webhooks/alertmanager/, runbook runs to "
    "/api/runbook-executions/",
)

# --- Per-incident KPIs ----------------------------------------------------------------------------


@calculator("mttr", grain=INCIDENT)
def mttr_rows(period, company_id=None):
    """Minutes from detected_at to resolved_at of each resolved incident, observed at resolved_at."""
    incidents = Incident.objects.filter(in_period("resolved_at", period), company_filter(company_id))
    return incident_rows(
        incidents, observed_at=F("resolved_at"), value=MinutesBetween(F("resolved_at"), F("detected_at"))
    )


def _phase_entered(phase):
    return Subquery(
        PhaseTransition.objects.filter(incident=OuterRef("pk"), phase=phase).order_by().values("entered_at")[:1],
        output_field=DateTimeField(),
    )


@calculator("mtta", grain=INCIDENT)
def mtta_rows(period, company_id=None):
    """
    Minutes from the incident's first alert (issued_at of the earliest linked alert; without one, the
    'alert' phase's entered_at, then detected_at) to phase_entered_at(gather), observed when it entered
    gather.
    """
    first_alert = Subquery(
        Alert.objects.filter(incident=OuterRef("pk")).order_by().values("incident").annotate(first=Min("issued_at")).values("first"),
        output_field=DateTimeField(),
    )
    # Filtering through the join (not on the annotation) evaluates the subqueries only for these incidents.
    gathered = PhaseTransition.objects.filter(in_period("entered_at", period), phase=Phase.GATHER)
    incidents = Incident.objects.filter(company_filter(company_id), pk__in=gathered.values("incident_id")).annotate(
        gather_at=_phase_entered(Phase.GATHER),
        alerted_at=Coalesce(first_alert, _phase_entered(Phase.ALERT), F("detected_at")),
    )
    return incident_rows(incidents, observed_at=F("gather_at"), value=MinutesBetween(F("gather_at"), F("alerted_at")))


@calculator("cadence-adherence", grain=INCIDENT)
def cadence_adherence_rows(period, company_id=None):
    """
    Percent of the incident's milestones delivered at or before their committed ETA, over all its
    milestones, observed at its last milestone's ETA (once that ETA has passed, so every ETA has).
    """
    known = Period(period.start, min(period.end, timezone.now()))
    # An incident whose last ETA is in the period has a milestone due in it: aggregate only those.
    due = Milestone.objects.filter(in_period("committed_eta", known)).values("incident_id")
    incidents = (
        Incident.objects.filter(company_filter(company_id), pk__in=due)
        .annotate(last_eta=Max("milestones__committed_eta"))
        .filter(in_period("last_eta", known))
    )
    return incident_rows(
        incidents,
        observed_at=F("last_eta"),
        value=percent(
            Count("milestones", filter=Q(milestones__delivered_at__lte=F("milestones__committed_eta"))),
            Count("milestones"),
        ),
    )


@calculator("stakeholder-satisfaction", grain=INCIDENT)
def stakeholder_satisfaction_rows(period, company_id=None):
    """Mean survey score (1-5) of the incident's stakeholders, observed at the last response."""
    answered = SurveyResponse.objects.filter(in_period("submitted_at", period)).values("incident_id")
    incidents = (
        Incident.objects.filter(company_filter(company_id), pk__in=answered)
        .annotate(last_response=Max("survey_responses__submitted_at"))
        .filter(in_period("last_response", period))
    )
    return incident_rows(
        incidents,
        observed_at=F("last_response"),
        value=Cast(Avg("survey_responses__score"), FloatField()),
    )


def _detected_incidents(start, end, company_id):
    return Incident.objects.filter(detected_at__gte=start, detected_at__lt=end).filter(company_filter(company_id))


def _resolved_incidents(start, end, company_id):
    return Incident.objects.filter(resolved_at__gte=start, resolved_at__lt=end).filter(company_filter(company_id))


_automated = Q(automation_used=True)
_resolution_minutes = MinutesBetween(F("resolved_at"), F("detected_at"))

# Incidents detected: all of them and the P1s.
DETECTED_INCIDENTS = DailyTotals(
    counted=_detected_incidents,
    time_field="detected_at",
    totals={"incidents": Count("id"), "p1_incidents": Count("id", filter=Q(severity=Severity.P1))},
    figures={},
    window=ROLLING_WINDOW,
)

# Incidents resolved, manually and by automation (runbooks), with their resolution minutes.
RESOLVED_INCIDENTS = DailyTotals(
    counted=_resolved_incidents,
    time_field="resolved_at",
    totals={
        "manual_incidents": Count("id", filter=~_automated),
        "automated_incidents": Count("id", filter=_automated),
        "total_incidents": Count("id"),
        "manual_minutes": Sum(_resolution_minutes, filter=~_automated),
        "automated_minutes": Sum(_resolution_minutes, filter=_automated),
    },
    figures={
        "manual_mttr_minutes": "manual_minutes / NULLIF(manual_incidents, 0)",
        "automated_mttr_minutes": "automated_minutes / NULLIF(automated_incidents, 0)",
        "mttr_reduction_pct": (
            "100.0 - 100.0 * (automated_minutes / NULLIF(automated_incidents, 0))"
            " / NULLIF(manual_minutes / NULLIF(manual_incidents, 0), 0)"
        ),
        "self_healed_pct": "100.0 * automated_incidents / NULLIF(total_incidents, 0)",
    },
    window=ROLLING_WINDOW,
)


# Alerts issued, and those awaiting correlation: they add up by day.
ALERT_TOTALS = {"raw_alerts": Count("id"), "uncorrelated_alerts": Count("id", filter=Q(incident__isnull=True))}

# An alert correlation put in an incident it made; its distinct incidents are noise reduction's incidents created.
CORRELATED = Q(incident__correlation_key__gt="")


def noise_window(start, end, company_id=None, *, each_day=False):
    """
    Per company with alerts issued in [start, end) (and per UTC day, `each_day`): `raw_alerts`, `incidents_created`
    (distinct incidents made by correlation from those alerts), `uncorrelated_alerts` and `noise_reduction_pct`,
    which is NULL while any of the alerts awaits correlation: its incident is not made yet, and counting it as
    none would report up to 100 % from unprocessed input.
    """
    alerts = Alert.objects.filter(issued_at__gte=start, issued_at__lt=end).filter(indexed_company_filter(company_id))
    # A join, not a probe per alert: PostgreSQL hashes the incidents once for a long period (a backfill, the 30
    # days of /api/metrics/kpis/: 2-3x faster at a million alerts) and still probes by key when that is cheaper.
    grouped = by_company_and_day(alerts, "issued_at") if each_day else by_company(alerts)
    return grouped.annotate(
        **ALERT_TOTALS,
        incidents_created=Count("incident", distinct=True, filter=CORRELATED),
        noise_reduction_pct=Case(
            When(uncorrelated_alerts=0, then=Value(100.0) - percent(F("incidents_created"), F("raw_alerts"))),
            default=None,
            output_field=FloatField(),
        ),
    )


@calculator("p1-incident-count", grain=DAY, many_days=True)
def p1_incident_count_rows(period, company_id=None):
    """P1 incidents detected in the 30 days ending with each day (days without any incident: no value)."""
    return DETECTED_INCIDENTS.day_rows(period, company_id, value="p1_incidents")


@calculator("noise-reduction", grain=DAY, many_days=True, reads_correlation=True)
def noise_reduction_rows(period, company_id=None):
    """(1 - incidents created by correlation from the day's alerts / alerts issued that day) * 100."""
    days = noise_window(period.start, period.end, company_id, each_day=True)
    return company_rows(days, observed_at=F("obs_day"), value=F("noise_reduction_pct"))


@calculator("mttr-reduction", grain=DAY, many_days=True)
def mttr_reduction_rows(period, company_id=None):
    """
    (1 - mean automated MTTR / mean manual MTTR) * 100 over incidents resolved in the 30 days ending
    with each day; no value unless both manual and automated incidents were resolved.
    """
    return RESOLVED_INCIDENTS.day_rows(period, company_id, value="mttr_reduction_pct")


@calculator("self-healed", grain=DAY, many_days=True)
def self_healed_rows(period, company_id=None):
    """Automated (runbook) resolved incidents / all resolved incidents, in the 30 days ending with each day, * 100."""
    return RESOLVED_INCIDENTS.day_rows(period, company_id, value="self_healed_pct")


# --- Evidence: the numbers behind a company KPI, for any period ----------------------------------------


@evidence("noise-reduction", incidents_by="detected")
def noise_reduction_evidence(company, start, end):
    """Raw alerts, incidents created and noise reduction of `company` in [start, end); None without alerts."""
    return one_row(noise_window(start, end, company.pk), "raw_alerts", "incidents_created", "noise_reduction_pct")


def runbooks_used(company, start, end):
    """Runbooks executed for `company` in [start, end), most used first: id, executions, success rate."""
    executions = RunbookExecution.objects.filter(company=company, started_at__gte=start, started_at__lt=end)
    return list(
        executions.order_by()
        .values("runbook_id")
        .annotate(executions=Count("id"), success_rate=ratio(Count("id", filter=Q(success=True)), Count("id")))
        .order_by("-executions", "runbook_id")
    )


@evidence("mttr-reduction", window=ROLLING_WINDOW, incidents_by="resolved")
def mttr_reduction_evidence(company, start, end):
    """Manual and automated MTTR with sample sizes and the runbooks used; None without resolved incidents."""
    row = RESOLVED_INCIDENTS.figures_of(
        company, start, end,
        "manual_mttr_minutes", "automated_mttr_minutes", "manual_incidents", "automated_incidents", "mttr_reduction_pct",
    )
    if row is not None:
        row["runbooks_used"] = runbooks_used(company, start, end)
    return row


@evidence("self-healed", window=ROLLING_WINDOW, incidents_by="resolved")
def self_healed_evidence(company, start, end):
    """Self-healed and all resolved incidents with the runbooks used; None without resolved incidents."""
    row = RESOLVED_INCIDENTS.figures_of(company, start, end, "automated_incidents", "total_incidents", "self_healed_pct")
    if row is not None:
        row["runbooks_used"] = runbooks_used(company, start, end)
    return row


@evidence("p1-incident-count", window=ROLLING_WINDOW, incidents_by="detected")
def p1_incident_count_evidence(company, start, end):
    """Incidents and P1 incidents of `company` detected in [start, end); None without incidents."""
    return DETECTED_INCIDENTS.figures_of(company, start, end, "incidents", "p1_incidents")
