"""
Every write of the scoring app: dimension weights (change-controlled) and the daily score snapshots.

The cascade, bottom up, for each KPI and day:
  * service: the mean of the KPI's observations whose service is that service, scored as one value
    (per severity group for KPIs with per-severity targets);
  * domain: the unweighted mean of its services' KPI scores (and values), plus one more member for the
    observations recorded at the domain itself (domain set, no service);
  * company (tenant): the unweighted mean of its domains' KPI scores, plus one more member for the
    observations recorded at the company itself (no domain, no service) -- company-level KPIs such as NRR
    are only that member.
A KPI with no observations in a scope is missing there: it is left out of its dimension and the remaining
weights are renormalised; a dimension with no KPI is left out of the composite the same way. Every snapshot
lists what was counted and what was missing.
"""
import datetime
from collections import defaultdict
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, F, Sum
from django.utils import timezone

from companyos.change_control import apply_changes, require_reason
from tenancy.models import Company, Service
from kpis.models import Observation

from .aggregates import IdList, parse_ids
from .bands import band_for
from .normalisation import is_scored, kpi_weight, value_and_score, weighted_mean
from .choices import ScopeLevel
from .models import SCORED_DIMENSIONS, DimensionWeights, ScoreSnapshot
from .versions import definitions_in_force, weights_in_force


def day_bounds(day):
    """[start, end) of a UTC day."""
    start = datetime.datetime.combine(day, datetime.time.min, tzinfo=datetime.timezone.utc)
    return start, start + datetime.timedelta(days=1)


@transaction.atomic
def change_weights(*, actor, reason, **weights):
    """
    Set some or all of the five dimension weights and record one history row with who and why.

    Refuses a missing reason, an unknown dimension or a set that does not add up to 100; nothing is written then.
    """
    require_reason(reason)
    known = {dimension.value for dimension in SCORED_DIMENSIONS}
    unknown = set(weights) - known
    if unknown:
        raise ValidationError({name: f"'{name}' is not a dimension; use one of {', '.join(sorted(known))}." for name in sorted(unknown)})
    return apply_changes(DimensionWeights(pk=1), weights, actor=actor, reason=reason)


@dataclass
class KpiResult:
    """A KPI in one scope on one day: its value, its score (None when tracked only) and its evidence."""

    value: float
    score: float | None
    count: int
    observation_ids: list = field(default_factory=list)


def _combine(members):
    """A parent scope's result: the unweighted mean of its members' values and scores."""
    scores = [member.score for member in members if member.score is not None]
    return KpiResult(
        value=sum(member.value for member in members) / len(members),
        score=sum(scores) / len(scores) if scores else None,
        count=sum(member.count for member in members),
        observation_ids=sorted(obs_id for member in members for obs_id in member.observation_ids),
    )


def _own_results(company, start, end, versions, persona):
    """
    {(level, scope id): {kpi id: KpiResult}} of the observations recorded directly at each scope of `company`,
    from one GROUP BY query over the day's observations.
    """
    rows = (
        Observation.objects.filter(company=company, observed_at__gte=start, observed_at__lt=end, kpi_id__in=versions)
        .values("kpi_id", "domain_id", "service_id", severity=F("incident__severity"))
        .annotate(count=Count("id"), total=Sum("value"), ids=IdList("id"))
        .order_by()
    )
    grouped = defaultdict(list)
    for row in rows:
        if row["service_id"]:
            scope = (ScopeLevel.SERVICE, row["service_id"])
        elif row["domain_id"]:
            scope = (ScopeLevel.DOMAIN, row["domain_id"])
        else:
            scope = (ScopeLevel.COMPANY, company.pk)
        grouped[scope, row["kpi_id"]].append(row)
    results = defaultdict(dict)
    for (scope, kpi_id), kpi_rows in grouped.items():
        groups = [(row["severity"], row["count"], row["total"]) for row in kpi_rows]
        value, score = value_and_score(versions[kpi_id].definition, groups, persona)
        ids = sorted(obs_id for row in kpi_rows for obs_id in parse_ids(row["ids"]))
        results[scope][kpi_id] = KpiResult(value, score, sum(group[1] for group in groups), ids)
    return results


def _cascade(company, own, versions):
    """[(level, domain, service, {kpi id: KpiResult})] for every service, domain and the company itself."""
    services = list(Service.objects.filter(domain__company=company).select_related("domain").order_by("domain_id", "id"))
    domains = list(company.domains.order_by("id"))
    scopes = []
    by_domain = defaultdict(list)
    for service in services:
        results = own.get((ScopeLevel.SERVICE, service.pk), {})
        by_domain[service.domain_id].append(results)
        scopes.append((ScopeLevel.SERVICE, service.domain, service, results))
    domain_results = []
    for domain in domains:
        members = [*by_domain[domain.pk], own.get((ScopeLevel.DOMAIN, domain.pk), {})]
        results = _roll_up(members, versions)
        domain_results.append(results)
        scopes.append((ScopeLevel.DOMAIN, domain, None, results))
    company_members = [*domain_results, own.get((ScopeLevel.COMPANY, company.pk), {})]
    scopes.append((ScopeLevel.COMPANY, None, None, _roll_up(company_members, versions)))
    return scopes


def _roll_up(members, versions):
    """{kpi id: KpiResult} of a parent scope: each KPI combined over the members that have it."""
    combined = {}
    for kpi_id in versions:
        present = [member[kpi_id] for member in members if kpi_id in member]
        if present:
            combined[kpi_id] = _combine(present)
    return combined


def _scored_snapshot(company, level, domain, service, day, results, versions, weights_version):
    """An unsaved ScoreSnapshot of one scope from its per-KPI results."""
    weights_history_id, dimension_weights = weights_version
    kpis = {}
    dimension_scores = {}
    dimensions = {}
    for kpi_id, version in versions.items():
        definition = version.definition
        result = results.get(kpi_id)
        if result is not None:
            kpis[definition.slug] = {
                "value": result.value,
                "target": definition.target,
                "critical": definition.critical_threshold,
                "score": result.score,
                "observations": result.count,
                "dimension": definition.dimension,
            }
    for dimension in SCORED_DIMENSIONS:
        members = [v.definition for v in versions.values() if v.definition.dimension == dimension and is_scored(v.definition)]
        weights = {definition.slug: kpi_weight(definition) for definition in members}
        scores = {slug: kpis[slug]["score"] for slug in weights if slug in kpis}
        score, counted, missing = weighted_mean(scores, weights)
        dimension_scores[dimension.value] = score
        dimensions[dimension.value] = {
            "score": score,
            "weight": dimension_weights[dimension.value],
            "counted": counted,
            "missing": missing,
        }
    composite, counted, missing = weighted_mean(dimension_scores, dimension_weights)
    band = band_for(composite)
    return ScoreSnapshot(
        company=company,
        domain=domain,
        service=service,
        level=level,
        day=day,
        composite=composite,
        band=band.key if band else "",
        dimensions=dimensions,
        coverage={"counted": counted, "missing": missing},
        kpis=kpis,
        inputs={
            "weights_history_id": weights_history_id,
            "definitions": {version.definition.slug: version.history_id for version in versions.values()},
            "observations": {
                versions[kpi_id].definition.slug: result.observation_ids for kpi_id, result in sorted(results.items())
            },
        },
        computed_at=timezone.now(),
    )


def build_snapshots(day, company, *, versions, weights_version, persona=None):
    """
    Unsaved snapshots of every scope of `company` on `day`, scored with `versions` (definitions_in_force) and
    `weights_version` (weights_in_force).
    """
    start, end = day_bounds(day)
    own = _own_results(company, start, end, versions, persona)
    return [
        _scored_snapshot(company, level, domain, service, day, results, versions, weights_version)
        for level, domain, service, results in _cascade(company, own, versions)
    ]


def compute_snapshots(day, *, company=None, as_of_now=False):
    """
    Compute the snapshots of `day` for `company` (default: every company) and store them, replacing that day's.

    Scored with the definitions and weights in force at the end of `day`. With `as_of_now` they are scored with
    today's definitions and weights instead and returned without being stored, to show what a change would do.
    """
    companies = [company] if company else list(Company.objects.order_by("id"))
    moment = timezone.now() if as_of_now else day_bounds(day)[1]
    versions, weights_version = definitions_in_force(moment), weights_in_force(moment)
    snapshots = []
    for each in companies:
        built = build_snapshots(day, each, versions=versions, weights_version=weights_version)
        if not as_of_now:
            _replace_day(each, day, built)
        snapshots.extend(built)
    return snapshots


@transaction.atomic
def _replace_day(company, day, snapshots):
    # Locking the company serialises two computations of the same company-day.
    Company.objects.select_for_update().filter(pk=company.pk).first()
    ScoreSnapshot.objects.filter(company=company, day=day).delete()
    ScoreSnapshot.objects.bulk_create(snapshots)


def compare_with_now(day, *, company=None):
    """
    [(stored snapshot or None, snapshot scored with today's versions)] for every scope of `day`, nothing stored.
    """
    current = compute_snapshots(day, company=company, as_of_now=True)
    stored_qs = ScoreSnapshot.objects.filter(day=day)
    if company:
        stored_qs = stored_qs.filter(company=company)
    stored = {(s.company_id, s.domain_id, s.service_id): s for s in stored_qs}
    return [(stored.get((s.company_id, s.domain_id, s.service_id)), s) for s in current]
