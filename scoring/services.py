"""
The daily score snapshots: computed, stored (replacing the day's) and compared with today's definitions.

Each day and scope (service, domain, company) is scored by the cascade of scoring.cascade: a scope's KPI values
are the KPI's formula over the scope's rows, its dimension scores the weighted mean of their parts (its KPIs at a
service; its members' mean and its own KPIs at a domain or the company). A KPI with no observations in a scope is
missing there: it is left out of its dimension and the remaining weights are renormalised; a dimension with no KPI
is left out of the composite the same way. Every snapshot lists what was counted, what was missing and the parts
of each dimension.
"""
import datetime
from collections import defaultdict
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Count, F, Sum
from django.utils import timezone

from tenancy.models import Company, Service
from kpis.models import Observation

from .aggregates import IdList, parse_ids
from .bands import band_for
from .cascade import Observed, scope_results
from .normalisation import weighted_mean
from .choices import ScopeLevel
from .models import ScoreSnapshot
from .snapshot_history import pruned_inputs
from .versions import definitions_in_force, weights_in_force


def day_bounds(day):
    """[start, end) of a UTC day."""
    start = datetime.datetime.combine(day, datetime.time.min, tzinfo=datetime.timezone.utc)
    return start, start + datetime.timedelta(days=1)


def _own_observations(company, start, end, versions):
    """
    {(level, scope id): {kpi id: Observed}} of the observations recorded directly at each scope of `company`,
    from one GROUP BY query over the day's observations.
    """
    rows = (
        Observation.objects.filter(company=company, observed_at__gte=start, observed_at__lt=end, kpi_id__in=versions)
        .values("kpi_id", "domain_id", "service_id", severity=F("incident__severity"))
        .annotate(count=Count("id"), total=Sum("value"), ids=IdList("id"))
        .order_by()
    )
    own = defaultdict(lambda: defaultdict(Observed))
    for row in rows:
        if row["service_id"]:
            scope = (ScopeLevel.SERVICE, row["service_id"])
        elif row["domain_id"]:
            scope = (ScopeLevel.DOMAIN, row["domain_id"])
        else:
            scope = (ScopeLevel.COMPANY, company.pk)
        own[scope][row["kpi_id"]].add(row["severity"], row["count"], row["total"], parse_ids(row["ids"]))
    return own


def _scored_snapshot(company, day, scope, versions, weights_version):
    """An unsaved ScoreSnapshot of one scope from its ScopeResult."""
    weights_history_id, dimension_weights = weights_version
    kpis = {}
    for kpi_id, result in scope.kpis.items():
        definition = versions[kpi_id].definition
        kpis[definition.slug] = {
            "value": result.value,
            "target": definition.target,
            "critical": definition.critical_threshold,
            "score": result.score,
            "observations": result.count,
            "dimension": definition.dimension,
        }
    dimensions = {}
    for dimension, result in scope.dimensions.items():
        dimensions[dimension] = {
            "score": result.score,
            "weight": dimension_weights[dimension],
            "counted": sorted(result.covers),
            "missing": result.missing,
            "parts": result.parts,
        }
    composite, counted, missing = weighted_mean(
        {dimension: data["score"] for dimension, data in dimensions.items()}, dimension_weights
    )
    band = band_for(composite)
    return ScoreSnapshot(
        company=company,
        domain=scope.domain,
        service=scope.service,
        level=scope.level,
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
                versions[kpi_id].definition.slug: result.observation_ids for kpi_id, result in sorted(scope.kpis.items())
            },
        },
        computed_at=timezone.now(),
    )


def build_snapshots(day, company, *, versions, weights_version):
    """
    Unsaved snapshots of every scope of `company` on `day`, scored with `versions` (definitions_in_force) and
    `weights_version` (weights_in_force).
    """
    start, end = day_bounds(day)
    own = _own_observations(company, start, end, versions)
    services = Service.objects.filter(domain__company=company).select_related("domain").order_by("domain_id", "id")
    scopes = scope_results(company, company.domains.order_by("id"), services, own, versions)
    return [_scored_snapshot(company, day, scope, versions, weights_version) for scope in scopes]


def compute_snapshots(day, *, company=None, as_of_now=False):
    """
    Compute the snapshots of `day` for `company` (default: every company) and store them, replacing that day's.

    Scored with the definitions and weights in force at the end of `day`. With `as_of_now` they are scored with
    today's definitions and weights instead and returned without being stored, to show what a change would do.
    A company's day whose raw observations retention pruned is not recomputed: its stored snapshots are returned
    (`store_day_snapshots` says why).
    """
    if not as_of_now:
        return [snapshot for stored in store_day_snapshots(day, company=company) for snapshot in stored.snapshots]
    versions, weights_version = definitions_in_force(timezone.now(), on=day), weights_in_force(timezone.now())
    return [
        snapshot
        for each in _companies(company)
        for snapshot in build_snapshots(day, each, versions=versions, weights_version=weights_version)
    ]


@dataclass(frozen=True)
class StoredDay:
    """One company's day as storing left it: the snapshots stored now and those they replaced, or why it kept them."""

    company: Company
    day: datetime.date
    snapshots: list
    replaced: list = field(default_factory=list)
    kept_because: str = ""


def store_day_snapshots(day, *, company=None):
    """
    Compute and store the snapshots of `day` for `company` (default: every company), scored with the definitions
    and weights in force at the end of `day`; a StoredDay per company.

    Never from less data than the day had: where retention pruned raw observations of the day, the stored
    snapshots stay (or none is made) and `kept_because` names the day, the KPIs and their retention rule.
    """
    start, end = day_bounds(day)
    versions, weights_version = definitions_in_force(end, on=day), weights_in_force(end)
    stored = []
    for each in _companies(company):
        built = build_snapshots(day, each, versions=versions, weights_version=weights_version)
        company_level = next(snapshot for snapshot in built if snapshot.level == ScopeLevel.COMPANY)
        stored.append(_replace_day(each, day, built, pruned_inputs(each, day, start, end, company_level, versions)))
    return stored


def _companies(company):
    return [company] if company else list(Company.objects.order_by("id"))


@transaction.atomic
def _replace_day(company, day, snapshots, kept_because):
    # Locking the company serialises two computations of the same company-day.
    Company.objects.select_for_update().filter(pk=company.pk).first()
    stored = list(ScoreSnapshot.objects.filter(company=company, day=day))
    if kept_because:
        return StoredDay(company, day, stored, kept_because=kept_because)
    ScoreSnapshot.objects.filter(company=company, day=day).delete()
    ScoreSnapshot.objects.bulk_create(snapshots)
    return StoredDay(company, day, snapshots, replaced=stored)


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
