"""
The one place KPI formulas live: a registry mapping each computed KPI slug to its calculator.

A calculator is a function of (period, company_id) returning a queryset of observation rows, computed
set-based in SQL. Every row has the columns of `ROW_COLUMNS`; rows whose value is NULL mean "no data"
and are never stored (no fake zeros). The nightly run, backfills, the API and scoring all go through
this registry (kpis.observations writes the rows); a KPI without a calculator is ingest-only.

Two grains:
- INCIDENT: one observation per incident, scoped to the incident's company, domain and service, at the
  moment the value became known. The period filters on that moment.
- DAY: one observation per company and UTC day, at the day's 00:00, for every day of the period.

The `*_evidence(company, start, end)` functions give the numbers behind a company KPI (raw alerts,
sample sizes, runbooks, patch counts) for an arbitrary period, through the same row queries.
"""
import datetime
from dataclasses import dataclass
from typing import Callable, NamedTuple

from django.db import NotSupportedError
from django.db.models import (
    Avg,
    BigIntegerField,
    Count,
    DateTimeField,
    Exists,
    F,
    FloatField,
    Func,
    Max,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.functions import Cast, Coalesce, NullIf
from django.utils import timezone

from incidents.choices import Phase, Severity
from incidents.models import (
    Alert,
    Company,
    Incident,
    Milestone,
    PatchComplianceSnapshot,
    PhaseTransition,
    RunbookExecution,
    SurveyResponse,
)

INCIDENT = "incident"
DAY = "day"
GRAINS = (INCIDENT, DAY)

# The seed measures MTTR reduction and self-healing over 30 days and targets P1 incidents per month.
ROLLING_WINDOW = datetime.timedelta(days=30)
ONE_DAY = datetime.timedelta(days=1)

# The columns every calculator's queryset selects, in this order; kpis.observations inserts them.
ROW_COLUMNS = ("obs_company", "obs_domain", "obs_service", "obs_incident", "obs_observed_at", "obs_value", "obs_confidence")


class Period(NamedTuple):
    """A half-open time range [start, end) of aware datetimes."""

    start: datetime.datetime
    end: datetime.datetime

    @classmethod
    def of_day(cls, day):
        """The UTC day `day` (a date), 00:00 to 00:00."""
        start = datetime.datetime.combine(day, datetime.time.min, tzinfo=datetime.timezone.utc)
        return cls(start, start + ONE_DAY)

    def days(self):
        """The UTC days whose 00:00 lies in this period, as one-day periods."""
        first = self.start.astimezone(datetime.timezone.utc)
        day = first.date() if first.time() == datetime.time.min else first.date() + ONE_DAY
        periods = []
        while (period := Period.of_day(day)).start < self.end:
            periods.append(period)
            day += ONE_DAY
        return periods


@dataclass(frozen=True)
class Calculator:
    """A registered formula: `rows(period, company_id)` returns the observation rows of `slug`."""

    slug: str
    grain: str
    rows: Callable[[Period, int | None], QuerySet]

    def periods(self, period):
        """The chunks one computation of `period` is split into: the whole period, or one per day."""
        return period.days() if self.grain == DAY else [period]


CALCULATORS: dict[str, Calculator] = {}


@dataclass(frozen=True)
class Evidence:
    """
    The numbers behind a daily company KPI: `figures(company, start, end)` gives them for any period (None
    without data); a day's value covers the `window` ending with the day; `incidents_by` names the incident
    time the figures count incidents by ("detected", "resolved"), or None when they are not about incidents.
    """

    figures: Callable
    window: datetime.timedelta
    incidents_by: str | None


EVIDENCE: dict[str, Evidence] = {}


class UnknownCalculator(LookupError):
    """The slug has no calculator: it is unknown or ingest-only."""


def calculator(slug, *, grain):
    """Register the decorated function as the calculator of `slug`."""
    if grain not in GRAINS:
        raise ValueError(f"Unknown grain '{grain}' for '{slug}'; use one of {', '.join(GRAINS)}.")

    def register(function):
        if slug in CALCULATORS:
            raise ValueError(f"The KPI '{slug}' already has a calculator.")
        CALCULATORS[slug] = Calculator(slug=slug, grain=grain, rows=function)
        return function

    return register


def evidence(slug, *, window=ONE_DAY, incidents_by=None):
    """Register the decorated function as the figures of `slug`'s Evidence (the cockpit shows them)."""

    def register(function):
        if slug in EVIDENCE:
            raise ValueError(f"The KPI '{slug}' already has evidence.")
        EVIDENCE[slug] = Evidence(function, window, incidents_by)
        return function

    return register


def get_calculator(slug):
    """The calculator of `slug`, or UnknownCalculator naming it."""
    try:
        return CALCULATORS[slug]
    except KeyError:
        raise UnknownCalculator(f"The KPI '{slug}' has no calculator (it is unknown or ingest-only).") from None


# --- Portable expressions -------------------------------------------------------------------------


class MinutesBetween(Func):
    """Minutes from `start` to `end` (two datetimes), as a float, on PostgreSQL and SQLite."""

    output_field = FloatField()
    arity = 2

    def __init__(self, end, start, **extra):
        super().__init__(end, start, **extra)

    def as_sql(self, compiler, connection, **extra_context):
        raise NotSupportedError(f"MinutesBetween has no implementation for {connection.vendor}.")

    def as_postgresql(self, compiler, connection, **extra_context):
        template = "(CAST(EXTRACT(EPOCH FROM (%(expressions)s)) AS double precision) / 60.0)"
        return super().as_sql(compiler, connection, template=template, arg_joiner=" - ", **extra_context)

    def as_sqlite(self, compiler, connection, **extra_context):
        # julianday() is a float of days; rounding to milliseconds removes its representation noise.
        template = "(ROUND((julianday(%(expressions)s)) * 86400000.0) / 60000.0)"
        return super().as_sql(compiler, connection, template=template, arg_joiner=") - julianday(", **extra_context)


def ratio(part, whole):
    """part / whole as a float; NULL when `whole` is 0, so an empty period yields no value."""
    return Cast(part, FloatField()) / NullIf(Cast(whole, FloatField()), Value(0.0))


def percent(part, whole):
    """part / whole * 100 as a float; NULL when `whole` is 0."""
    return ratio(part, whole) * Value(100.0)


def _null_id():
    return Cast(Value(None), BigIntegerField())


def _company_filter(company_id, field="company_id"):
    return Q(**{field: company_id}) if company_id is not None else Q()


def _indexed_company_filter(company_id):
    """
    `company_id`'s rows, or every company's spelled as a semi-join on the companies: PostgreSQL then reads a
    time range through the table's (company, time) index a company at a time instead of scanning the table.
    """
    return _company_filter(company_id) if company_id is not None else Q(company_id__in=Company.objects.values("pk"))


def _day_rows(queryset, day, value, confidence=1.0):
    """Company rows of one day: `queryset` must be grouped by company with `obs_company`."""
    return queryset.order_by().annotate(
        obs_domain=_null_id(),
        obs_service=_null_id(),
        obs_incident=_null_id(),
        obs_observed_at=Value(day.start, output_field=DateTimeField()),
        obs_value=value,
        obs_confidence=Value(confidence, output_field=FloatField()),
    ).values(*ROW_COLUMNS)


def _incident_rows(incidents, *, observed_at, value, confidence=1.0):
    """One row per incident of `incidents`, scoped to its company, domain and service."""
    return incidents.order_by().values(
        obs_incident=F("id"),
        obs_company=F("company_id"),
        obs_domain=F("service__domain_id"),
        obs_service=F("service_id"),
    ).annotate(
        obs_observed_at=observed_at,
        obs_value=value,
        obs_confidence=Value(confidence, output_field=FloatField()),
    ).values(*ROW_COLUMNS)


def _in_period(field, period):
    return Q(**{f"{field}__gte": period.start, f"{field}__lt": period.end})


# --- Per-incident KPIs ----------------------------------------------------------------------------


@calculator("mttr", grain=INCIDENT)
def mttr_rows(period, company_id=None):
    """Minutes from detected_at to resolved_at of each resolved incident, observed at resolved_at."""
    incidents = Incident.objects.filter(_in_period("resolved_at", period), _company_filter(company_id))
    return _incident_rows(
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
    gathered = PhaseTransition.objects.filter(_in_period("entered_at", period), phase=Phase.GATHER)
    incidents = Incident.objects.filter(_company_filter(company_id), pk__in=gathered.values("incident_id")).annotate(
        gather_at=_phase_entered(Phase.GATHER),
        alerted_at=Coalesce(first_alert, _phase_entered(Phase.ALERT), F("detected_at")),
    )
    return _incident_rows(incidents, observed_at=F("gather_at"), value=MinutesBetween(F("gather_at"), F("alerted_at")))


@calculator("cadence-adherence", grain=INCIDENT)
def cadence_adherence_rows(period, company_id=None):
    """
    Percent of the incident's milestones delivered at or before their committed ETA, over all its
    milestones, observed at its last milestone's ETA (once that ETA has passed, so every ETA has).
    """
    known = Period(period.start, min(period.end, timezone.now()))
    # An incident whose last ETA is in the period has a milestone due in it: aggregate only those.
    due = Milestone.objects.filter(_in_period("committed_eta", known)).values("incident_id")
    incidents = (
        Incident.objects.filter(_company_filter(company_id), pk__in=due)
        .annotate(last_eta=Max("milestones__committed_eta"))
        .filter(_in_period("last_eta", known))
    )
    return _incident_rows(
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
    answered = SurveyResponse.objects.filter(_in_period("submitted_at", period)).values("incident_id")
    incidents = (
        Incident.objects.filter(_company_filter(company_id), pk__in=answered)
        .annotate(last_response=Max("survey_responses__submitted_at"))
        .filter(_in_period("last_response", period))
    )
    return _incident_rows(
        incidents,
        observed_at=F("last_response"),
        value=Cast(Avg("survey_responses__score"), FloatField()),
    )


# --- Per-company KPIs: shared row queries for any period, used by the daily calculators and evidence --


def _by_company(queryset):
    return queryset.order_by().values(obs_company=F("company_id"))


def p1_incident_window(start, end, company_id=None):
    """Per company with incidents detected in [start, end): `incidents` and `p1_incidents`."""
    incidents = Incident.objects.filter(detected_at__gte=start, detected_at__lt=end).filter(_company_filter(company_id))
    return _by_company(incidents).annotate(incidents=Count("id"), p1_incidents=Count("id", filter=Q(severity=Severity.P1)))


def noise_window(start, end, company_id=None):
    """
    Per company with alerts issued in [start, end): `raw_alerts`, `incidents_created` (distinct
    incidents made by correlation from those alerts) and `noise_reduction_pct`.
    """
    alerts = Alert.objects.filter(issued_at__gte=start, issued_at__lt=end).filter(_indexed_company_filter(company_id))
    # Probed per alert through the incident's primary key: a day's alerts meet a few thousand incidents, and a
    # join would have PostgreSQL hash every incident there is.
    made_by_correlation = Exists(Incident.objects.filter(pk=OuterRef("incident_id"), correlation_key__gt=""))
    return _by_company(alerts).annotate(
        raw_alerts=Count("id"),
        incidents_created=Count("incident", distinct=True, filter=made_by_correlation),
        noise_reduction_pct=Value(100.0) - percent(F("incidents_created"), F("raw_alerts")),
    )


def resolution_window(start, end, company_id=None):
    """
    Per company with incidents resolved in [start, end): manual and automated sample sizes and mean
    resolution minutes, `mttr_reduction_pct` (NULL unless both kinds exist) and `self_healed_pct`.
    """
    automated = Q(automation_used=True)
    minutes = MinutesBetween(F("resolved_at"), F("detected_at"))
    incidents = Incident.objects.filter(resolved_at__gte=start, resolved_at__lt=end).filter(_company_filter(company_id))
    return _by_company(incidents).annotate(
        manual_incidents=Count("id", filter=~automated),
        automated_incidents=Count("id", filter=automated),
        total_incidents=Count("id"),
        manual_mttr_minutes=Avg(minutes, filter=~automated),
        automated_mttr_minutes=Avg(minutes, filter=automated),
        mttr_reduction_pct=Value(100.0) - percent(F("automated_mttr_minutes"), F("manual_mttr_minutes")),
        self_healed_pct=percent(F("automated_incidents"), F("total_incidents")),
    )


def latest_patch_snapshots(start, end, company_id=None):
    """Each company's latest patch scan in [start, end), with `compliance_pct`."""
    scans = PatchComplianceSnapshot.objects.filter(scanned_at__gte=start, scanned_at__lt=end)
    latest = scans.filter(company=OuterRef("company")).order_by("-scanned_at").values("scanned_at")[:1]
    return (
        scans.filter(_company_filter(company_id), scanned_at=Subquery(latest))
        .order_by()
        .annotate(obs_company=F("company_id"), compliance_pct=percent(F("compliant_instances"), F("total_instances")))
    )


@calculator("p1-incident-count", grain=DAY)
def p1_incident_count_rows(day, company_id=None):
    """P1 incidents detected in the 30 days ending with the day (days without any incident: no value)."""
    window = p1_incident_window(day.end - ROLLING_WINDOW, day.end, company_id)
    return _day_rows(window, day, value=Cast(F("p1_incidents"), FloatField()))


@calculator("noise-reduction", grain=DAY)
def noise_reduction_rows(day, company_id=None):
    """(1 - incidents created by correlation from the day's alerts / alerts issued that day) * 100."""
    return _day_rows(noise_window(day.start, day.end, company_id), day, value=F("noise_reduction_pct"))


@calculator("mttr-reduction", grain=DAY)
def mttr_reduction_rows(day, company_id=None):
    """
    (1 - mean automated MTTR / mean manual MTTR) * 100 over incidents resolved in the 30 days ending
    with the day; no value unless both manual and automated incidents were resolved.
    """
    window = resolution_window(day.end - ROLLING_WINDOW, day.end, company_id)
    return _day_rows(window, day, value=F("mttr_reduction_pct"))


@calculator("self-healed", grain=DAY)
def self_healed_rows(day, company_id=None):
    """Automated (runbook) resolved incidents / all resolved incidents, in the 30 days ending with the day, * 100."""
    window = resolution_window(day.end - ROLLING_WINDOW, day.end, company_id)
    return _day_rows(window, day, value=F("self_healed_pct"))


@calculator("patch-compliance", grain=DAY)
def patch_compliance_rows(day, company_id=None):
    """Compliant / total instances * 100 of the company's latest patch scan of the day."""
    return _day_rows(latest_patch_snapshots(day.start, day.end, company_id), day, value=F("compliance_pct"))


# --- Evidence: the numbers behind a company KPI, for any period ----------------------------------------


def _one_row(queryset, *fields):
    # Not .first(): its ORDER BY pk is invalid on a grouped query.
    return next(iter(queryset.values(*fields)[:1]), None)


@evidence("noise-reduction", incidents_by="detected")
def noise_reduction_evidence(company, start, end):
    """Raw alerts, incidents created and noise reduction of `company` in [start, end); None without alerts."""
    return _one_row(noise_window(start, end, company.pk), "raw_alerts", "incidents_created", "noise_reduction_pct")


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
    row = _one_row(
        resolution_window(start, end, company.pk),
        "manual_mttr_minutes",
        "automated_mttr_minutes",
        "manual_incidents",
        "automated_incidents",
        "mttr_reduction_pct",
    )
    if row is not None:
        row["runbooks_used"] = runbooks_used(company, start, end)
    return row


@evidence("self-healed", window=ROLLING_WINDOW, incidents_by="resolved")
def self_healed_evidence(company, start, end):
    """Self-healed and all resolved incidents with the runbooks used; None without resolved incidents."""
    row = _one_row(resolution_window(start, end, company.pk), "automated_incidents", "total_incidents", "self_healed_pct")
    if row is not None:
        row["runbooks_used"] = runbooks_used(company, start, end)
    return row


@evidence("patch-compliance")
def patch_compliance_evidence(company, start, end):
    """The latest patch scan of `company` in [start, end) with its compliance; None without a scan."""
    return _one_row(
        latest_patch_snapshots(start, end, company.pk),
        "scanned_at",
        "total_instances",
        "compliant_instances",
        "non_compliant_instances",
        "critical_patches_missing",
        "compliance_pct",
    )


@evidence("p1-incident-count", window=ROLLING_WINDOW, incidents_by="detected")
def p1_incident_count_evidence(company, start, end):
    """Incidents and P1 incidents of `company` detected in [start, end); None without incidents."""
    return _one_row(p1_incident_window(start, end, company.pk), "incidents", "p1_incidents")
