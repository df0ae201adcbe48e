"""
DORA performance tiers: each of the four key metrics of a company, a team or a service on each day, classified into
the performance clusters (Elite, High, Medium, Low) of a State of DevOps report (settings.DORA_REPORT_YEAR, 2023 or
2024), and the tiers' thresholds proposed as the four definitions' targets.

The values are the portal's own, per company, team or service and day, in set-based SQL (delivery.calculators'
figures split by a Grouping):
  * deployment frequency: successful production deployments finished in the 30 days ending with the day / 30 (a
    month, not the KPI's week: the clusters' edges are once a week and once a month);
  * lead time for changes: the KPI's median hours over the changes shipped in the 7 days ending with the day;
  * change failure rate: the KPI's percent over the 30 days ending with the day;
  * time to restore: the mean minutes from detection to resolution (mttr's observations) of the incidents resolved
    in the 30 days ending with the day.
A team's incidents are those of the services it deploys (a service's team is the team of its latest production
deployment).

Classification: a metric's tier is the best tier (Elite, High, Medium) whose bound the value meets, else Low. The
reports give each cluster a range (deployment frequency, lead time, restore time) or one typical rate (change
failure rate); the bounds below are each range's edge towards the next worse cluster. Where a report's clusters
overlap or are not monotonic on a metric, a value meets the better cluster first: 2024's Medium change failure rate
(10 %) is better than High's (20 %), so a rate up to 20 % is High and Medium is never reached on that metric; 2024's
High and Medium both restore in under a day, so Medium is never reached on restore time; 2023's Low deploys as often
as Medium (weekly to monthly), so Low is what is below once a month.
"""
import datetime
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, F, Min, OuterRef, Subquery, Sum

from kpis.calculators import ROLLING_WINDOW, Period
from kpis.calculators.toolkit import (
    DailyTotals,
    Grouping,
    company_filter,
    day_rows_from,
    day_values,
    day_windows,
    ratio_sql,
)
from kpis.choices import Direction, Status
from kpis.models import KpiDefinition, Observation
from kpis.services import propose_change
from tenancy.models import Service

from .calculators import CHANGE_FAILURES, PRODUCTION_DEPLOYMENTS, SHIPPED_CHANGES
from .models import Deployment

ELITE, HIGH, MEDIUM, LOW = "elite", "high", "medium", "low"
TIERS = (ELITE, HIGH, MEDIUM, LOW)
TIER_LABELS = {ELITE: "Elite", HIGH: "High", MEDIUM: "Medium", LOW: "Low"}

DEPLOYMENT_FREQUENCY, LEAD_TIME, CHANGE_FAILURE_RATE, TIME_TO_RESTORE = (
    "deployment-frequency", "lead-time-for-changes", "change-failure-rate", "mttr",
)
METRICS = (DEPLOYMENT_FREQUENCY, LEAD_TIME, CHANGE_FAILURE_RATE, TIME_TO_RESTORE)
METRIC_LABELS = {
    DEPLOYMENT_FREQUENCY: "Deployment frequency", LEAD_TIME: "Lead time for changes",
    CHANGE_FAILURE_RATE: "Change failure rate", TIME_TO_RESTORE: "Time to restore",
}
# Each metric's direction and the unit its values and bounds are in (the KPI's).
DIRECTIONS = {
    DEPLOYMENT_FREQUENCY: Direction.HIGHER_IS_BETTER, LEAD_TIME: Direction.LOWER_IS_BETTER,
    CHANGE_FAILURE_RATE: Direction.LOWER_IS_BETTER, TIME_TO_RESTORE: Direction.LOWER_IS_BETTER,
}
DAY_HOURS, WEEK_HOURS, MONTH_HOURS, SIX_MONTHS_HOURS = 24, 7 * 24, 30 * 24, 180 * 24
HOUR_MINUTES, DAY_MINUTES, WEEK_MINUTES = 60, 24 * 60, 7 * 24 * 60


@dataclass(frozen=True)
class Bound:
    """A tier's edge: a value at least as good as `value` meets it (`inclusive`), or strictly better."""

    value: float
    inclusive: bool

    def met_by(self, value, direction):
        if direction == Direction.HIGHER_IS_BETTER:
            return value >= self.value if self.inclusive else value > self.value
        return value <= self.value if self.inclusive else value < self.value

    def shown(self, direction):
        sign = {(Direction.HIGHER_IS_BETTER, True): ">=", (Direction.HIGHER_IS_BETTER, False): ">",
                (Direction.LOWER_IS_BETTER, True): "<=", (Direction.LOWER_IS_BETTER, False): "<"}[direction, self.inclusive]
        return f"{sign} {self.value:.4g}"


@dataclass(frozen=True)
class Report:
    """One year's clusters: per metric, the Elite, High and Medium bounds; Low's far edge; the published ranges."""

    year: int
    source: str
    bounds: dict
    low_edge: dict
    published: dict


def _bounds(elite, high, medium):
    return {ELITE: elite, HIGH: high, MEDIUM: medium}


# Deployment frequency in deployments per day, lead time in hours, change failure rate in percent, restore in minutes.
REPORTS = {
    2023: Report(
        2023,
        "Google Cloud DORA, Accelerate State of DevOps Report 2023, software delivery performance levels",
        {
            DEPLOYMENT_FREQUENCY: _bounds(Bound(1, False), Bound(1 / 7, True), Bound(1 / 30, True)),
            LEAD_TIME: _bounds(Bound(DAY_HOURS, False), Bound(WEEK_HOURS, True), Bound(MONTH_HOURS, True)),
            CHANGE_FAILURE_RATE: _bounds(Bound(5, True), Bound(10, True), Bound(15, True)),
            TIME_TO_RESTORE: _bounds(Bound(HOUR_MINUTES, False), Bound(DAY_MINUTES, False), Bound(WEEK_MINUTES, True)),
        },
        {DEPLOYMENT_FREQUENCY: 1 / 30, LEAD_TIME: MONTH_HOURS, CHANGE_FAILURE_RATE: 64, TIME_TO_RESTORE: 180 * DAY_MINUTES},
        {
            DEPLOYMENT_FREQUENCY: {ELITE: "on demand (multiple deploys per day)", HIGH: "between once per day and once per week",
                                   MEDIUM: "between once per week and once per month", LOW: "between once per week and once per month"},
            LEAD_TIME: {ELITE: "less than one day", HIGH: "between one day and one week",
                        MEDIUM: "between one week and one month", LOW: "between one week and one month"},
            CHANGE_FAILURE_RATE: {ELITE: "5%", HIGH: "10%", MEDIUM: "15%", LOW: "64%"},
            TIME_TO_RESTORE: {ELITE: "less than one hour", HIGH: "less than one day",
                              MEDIUM: "between one day and one week", LOW: "between one month and six months"},
        },
    ),
    2024: Report(
        2024,
        "Google Cloud DORA, Accelerate State of DevOps Report 2024, software delivery performance levels",
        {
            DEPLOYMENT_FREQUENCY: _bounds(Bound(1, False), Bound(1 / 7, True), Bound(1 / 30, True)),
            LEAD_TIME: _bounds(Bound(DAY_HOURS, False), Bound(WEEK_HOURS, True), Bound(MONTH_HOURS, True)),
            CHANGE_FAILURE_RATE: _bounds(Bound(5, True), Bound(20, True), Bound(10, True)),
            TIME_TO_RESTORE: _bounds(Bound(HOUR_MINUTES, False), Bound(DAY_MINUTES, False), Bound(DAY_MINUTES, False)),
        },
        {DEPLOYMENT_FREQUENCY: 1 / 180, LEAD_TIME: SIX_MONTHS_HOURS, CHANGE_FAILURE_RATE: 40, TIME_TO_RESTORE: 30 * DAY_MINUTES},
        {
            DEPLOYMENT_FREQUENCY: {ELITE: "on demand (multiple deploys per day)", HIGH: "between once per day and once per week",
                                   MEDIUM: "between once per week and once per month",
                                   LOW: "between once per month and once every six months"},
            LEAD_TIME: {ELITE: "less than one day", HIGH: "between one day and one week",
                        MEDIUM: "between one week and one month", LOW: "between one month and six months"},
            CHANGE_FAILURE_RATE: {ELITE: "5%", HIGH: "20%", MEDIUM: "10%", LOW: "40%"},
            TIME_TO_RESTORE: {ELITE: "less than one hour", HIGH: "less than one day",
                              MEDIUM: "less than one day", LOW: "between one week and one month"},
        },
    ),
}


def report(year=None):
    """The Report of `year` (default settings.DORA_REPORT_YEAR); a ValidationError naming the year when there is none."""
    year = settings.DORA_REPORT_YEAR if year is None else year
    try:
        return REPORTS[int(year)]
    except (KeyError, TypeError, ValueError):
        raise ValidationError({"year": f"No DORA report {year!r}; use one of {', '.join(map(str, REPORTS))}."}) from None


def classify(metric, value, year=None):
    """The tier of `value` of `metric` (see the module docstring): the best whose bound it meets, else Low."""
    bounds = report(year).bounds[metric]
    return next((tier for tier in (ELITE, HIGH, MEDIUM) if bounds[tier].met_by(value, DIRECTIONS[metric])), LOW)


# --- The four values per company, team or service and day -------------------------------------------------

COMPANY, TEAM, SERVICE = "company", "team", "service"


def team_of_service(service="service"):
    """The team of a service (the OuterRef `service`): the team of its latest production deployment naming one."""
    return Subquery(
        Deployment.objects.filter(service=OuterRef(service), production=True)
        .exclude(team="")
        .order_by("-created_at", "-pk")
        .values("team")[:1]
    )


def _deploying(key, *, named_team=False):
    """The reporting rule of production deployments by `key`: each reports from its first production deployment on."""
    def reporting(company_id):
        deployments = Deployment.objects.filter(company_filter(company_id), production=True)
        if named_team:
            deployments = deployments.exclude(team="")
        return deployments.order_by().values(obs_company=key).annotate(since=Min("created_at"))
    return reporting


# The Grouping of each kind of scope, for GitHub's rows and for incidents' observations (by their service).
DELIVERY_GROUPS = {
    COMPANY: None,
    TEAM: Grouping(F("team"), reporting=_deploying(F("team"), named_team=True)),
    SERVICE: Grouping(F("service_id"), reporting=_deploying(F("service_id"))),
}
INCIDENT_GROUPS = {COMPANY: None, TEAM: Grouping(team_of_service()), SERVICE: Grouping(F("service_id"))}


def _restores(start, end, company_id):
    return Observation.objects.filter(
        company_filter(company_id), kpi__slug=TIME_TO_RESTORE, observed_at__gte=start, observed_at__lt=end
    )


RESTORES = DailyTotals(
    counted=_restores,
    time_field="observed_at",
    totals={"restores": Count("id"), "restore_minutes": Sum("value")},
    figures={"mean_restore_minutes": ratio_sql("restore_minutes", "restores")},
    window=ROLLING_WINDOW,
)
TIER_DEPLOYMENT_WINDOW = ROLLING_WINDOW


def _figures(metric, period, company_id, kind):
    """{(key, day): value} of `metric` for every scope of `kind` of the company and day of `period`."""
    group = INCIDENT_GROUPS[kind] if metric == TIME_TO_RESTORE else DELIVERY_GROUPS[kind]
    if metric == DEPLOYMENT_FREQUENCY:
        figures, window, value = PRODUCTION_DEPLOYMENTS, TIER_DEPLOYMENT_WINDOW, (
            f"production_deployments / {TIER_DEPLOYMENT_WINDOW / datetime.timedelta(days=1)}"
        )
    elif metric == LEAD_TIME:
        figures, window, value = SHIPPED_CHANGES, SHIPPED_CHANGES.window, "median_lead_time_hours"
    elif metric == CHANGE_FAILURE_RATE:
        figures, window, value = CHANGE_FAILURES, CHANGE_FAILURES.window, "change_failure_pct"
    else:
        figures, window, value = RESTORES, RESTORES.window, "mean_restore_minutes"
    rows = day_rows_from(value, figures=figures.sql(day_windows(period, window), company_id, group))
    return {key: value for key, value in day_values(rows).items() if key[0] not in (None, "")}


@dataclass
class ScopeTiers:
    """One scope's days: {day: {metric: (value, tier)}}, newest last."""

    key: object
    days: dict

    def latest(self):
        """{metric: (value, tier, day)} of each metric's latest day with a value."""
        latest = {}
        for day in sorted(self.days):
            for metric, (value, tier) in self.days[day].items():
                latest[metric] = (value, tier, day)
        return latest


def tiers(company, period, kind, *, year=None):
    """
    [ScopeTiers] of every scope of `kind` (COMPANY, TEAM: its name, SERVICE: its id) of `company` with a value on a day
    of `period`, each metric classified with the thresholds of `year` (default settings.DORA_REPORT_YEAR).
    """
    chosen = report(year)
    scopes = {}
    for metric in METRICS:
        for (key, day), value in _figures(metric, period, company.pk, kind).items():
            days = scopes.setdefault(key, {})
            days.setdefault(day, {})[metric] = (value, classify(metric, value, chosen.year))
    return [ScopeTiers(key, dict(sorted(days.items()))) for key, days in sorted(scopes.items(), key=lambda item: str(item[0]))]


# --- The tiers as targets ----------------------------------------------------------------------------------


def tier_targets(tier, year=None):
    """
    {metric: (target, critical or None)} of `tier` (Elite, High or Medium) of the `year`'s report: the target is the
    tier's bound; the critical threshold the next worse tier's bound lying beyond it (Low's: the far edge of its
    published range), or None where the report has none (then the definition keeps its own).
    """
    if tier not in (ELITE, HIGH, MEDIUM):
        raise ValidationError({"tier": f"'{tier}' cannot be a target; use elite, high or medium."})
    chosen = report(year)
    targets = {}
    for metric in METRICS:
        direction, bounds = DIRECTIONS[metric], chosen.bounds[metric]
        target = bounds[tier].value
        worse = [bounds[other].value for other in (ELITE, HIGH, MEDIUM)[TIERS.index(tier) + 1:]] + [chosen.low_edge[metric]]
        beyond = [value for value in worse if (value < target if direction == Direction.HIGHER_IS_BETTER else value > target)]
        targets[metric] = (target, beyond[0] if beyond else None)
    return targets


def propose_tier_targets(tier, *, actor, reason, year=None):
    """
    Propose the `tier`'s thresholds (tier_targets) as the four definitions' target and critical threshold, each through
    kpis.services.propose_change: a proposal a second person approves, never applied here. Returns
    [(slug, ChangeOutcome or the ValidationError refusing it)].
    """
    chosen = report(year)
    outcomes = []
    for metric, (target, critical) in tier_targets(tier, chosen.year).items():
        kpi = KpiDefinition.objects.filter(slug=metric).first()
        if kpi is None:
            outcomes.append((metric, ValidationError({"slug": f"No definition '{metric}': load the catalogue first."})))
            continue
        if kpi.status != Status.ACTIVE:
            # A draft's change would apply at once: tier targets are only ever proposed.
            outcomes.append((metric, ValidationError({"status": f"'{metric}' is {kpi.status}, not active: nothing to propose."})))
            continue
        fields = {"target": round(target, 6)}
        if critical is not None:
            fields["critical_threshold"] = round(critical, 6)
        try:
            with transaction.atomic():
                outcomes.append((metric, propose_change(
                    kpi, actor=actor, reason=f"{reason} ({TIER_LABELS[tier]} tier of the {chosen.source})", **fields,
                )))
        except ValidationError as refusal:
            outcomes.append((metric, refusal))
    return outcomes


# --- One scope's tiers as the API and the cockpit show them ----------------------------------------------------


def company_teams(company):
    """The teams named on `company`'s GitHub rows, sorted."""
    return sorted(set(Deployment.objects.filter(company=company).exclude(team="").values_list("team", flat=True)))


def resolve_scope(company, *, team=None, service=None):
    """
    (kind, key, label) of the scope a request names: a team (its name), a service ("<domain>/<service>") or the
    company; a ValidationError naming the parameter when it names nothing of `company`, or both.
    """
    if team and service:
        raise ValidationError({"team": "Ask for a team or a service, not both."})
    if team:
        if team not in company_teams(company):
            raise ValidationError({"team": f"'{company.slug}' has no team '{team}' on its deployments."})
        return TEAM, team, team
    if service:
        domain_slug, _, service_slug = service.partition("/")
        found = Service.objects.filter(domain__company=company, domain__slug=domain_slug, slug=service_slug).first()
        if found is None or "\x00" in service:
            raise ValidationError({"service": f"'{company.slug}' has no service '{service}' (give <domain>/<service>)."})
        return SERVICE, found.pk, f"{domain_slug}/{service_slug}"
    return COMPANY, company.pk, company.name


def thresholds(year=None):
    """{metric: {tier: {"bound", "published"}}} of the `year`'s report, as people read them (Low: the rest)."""
    chosen = report(year)
    return {
        metric: {
            tier: {
                "bound": chosen.bounds[metric][tier].shown(DIRECTIONS[metric]) if tier != LOW else "the rest",
                "published": chosen.published[metric][tier],
            }
            for tier in TIERS
        }
        for metric in METRICS
    }


def scope_history(company, since, until, *, team=None, service=None, year=None):
    """
    One scope's tiers over the days [since, until] as the API gives them: the report, its thresholds, each metric's
    latest value and tier, and each day's.
    """
    chosen = report(year)
    kind, key, label = resolve_scope(company, team=team, service=service)
    period = Period.of_day(since)._replace(end=Period.of_day(until).end)
    scope = next((scope for scope in tiers(company, period, kind, year=chosen.year) if scope.key == key), None)
    days = scope.days if scope else {}
    latest = scope.latest() if scope else {}
    return {
        "company": company.slug,
        "scope": {"kind": kind, "name": label},
        "year": chosen.year,
        "source": chosen.source,
        "since": since.isoformat(),
        "until": until.isoformat(),
        "thresholds": thresholds(chosen.year),
        "latest": {
            metric: {"label": METRIC_LABELS[metric], "value": value, "tier": tier, "day": day.isoformat()}
            for metric, (value, tier, day) in latest.items()
        },
        "history": [
            {"day": day.isoformat(), **{metric: {"value": value, "tier": tier} for metric, (value, tier) in metrics.items()}}
            for day, metrics in days.items()
        ],
    }
