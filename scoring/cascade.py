"""
The cascade, written once: how the scores of a service, a domain and the company are made from the observations
recorded at each of them (`scope_results`). Pure functions over grouped rows; scoring.services reads and stores.

Values: a scope's KPI value is the KPI's formula over the scope's rows, i.e. the mean of every observation recorded
in the scope or below it (the company's MTTR is the mean over all its incidents, not a mean of domain means),
scored like any value (per severity group where the KPI has per-severity targets).

Dimension scores (CASCADE_RULE):
  * a service: the weighted mean of its KPIs' scores;
  * a domain (the company): the weighted mean of its parts --
      - the plain mean of its services' (domains') dimension scores, weighted by the KPIs measured in them (the sum
        of the weights of the dimension's KPIs scored in any of them); members without a score are left out;
      - each KPI measured only at the domain (company) itself, at its own weight (company-level KPIs: P1 count,
        change failure rate, NRR, ...).
    Observations recorded at the scope itself of a KPI its members also measure (an incident without a service)
    are one more member of that mean, scored like a service.
Without company-level KPIs the company's score is the plain mean of its domains' scores, as the health model's
`reliability_score: avg(domain_reliability_scores)`. Every dimension stores these parts, so a reader recombines it.
"""
from collections import defaultdict
from dataclasses import dataclass, field

from .choices import ScopeLevel
from .models import SCORED_DIMENSIONS
from .normalisation import is_scored, kpi_weight, value_and_score, weighted_mean

CASCADE_RULE = (
    "A company's (domain's) dimension score is the mean of its domains' (services') scores, weighted by the KPIs "
    "measured in them, together with each KPI measured only at the company (domain) itself at its own weight; a "
    "service's is the weighted mean of its KPIs' scores. The composite weights the dimension scores."
)
# The kinds of a dimension's parts: its members' mean, or one KPI.
MEMBERS = "members"
KPI = "kpi"
# The name of the member made of the scope's own observations of KPIs its members measure too.
RECORDED_HERE = "Recorded at this scope itself"


@dataclass
class Observed:
    """A KPI's observations in one scope: {severity or None: [count, sum of values]} and their ids."""

    groups: dict = field(default_factory=lambda: defaultdict(lambda: [0, 0.0]))
    ids: list = field(default_factory=list)

    def add(self, severity, count, total, ids):
        group = self.groups[severity]
        group[0] += count
        group[1] += total
        self.ids.extend(ids)

    def absorb(self, other):
        for severity, (count, total) in other.groups.items():
            self.add(severity, count, total, [])
        self.ids.extend(other.ids)

    def scored(self, definition):
        """The KpiResult of these observations: value and score by scoring.normalisation.value_and_score."""
        groups = [(severity, count, total) for severity, (count, total) in self.groups.items()]
        value, score = value_and_score(definition, groups)
        return KpiResult(value, score, sum(count for _, count, _ in groups), sorted(self.ids))


@dataclass
class KpiResult:
    """A KPI in one scope on one day: its value, its score (None when tracked only) and its evidence."""

    value: float
    score: float | None
    count: int
    observation_ids: list = field(default_factory=list)


@dataclass
class DimensionResult:
    """
    A dimension in one scope: its score, the KPI slugs scored in the scope or below (`covers`), the dimension's
    scored KPIs without data there (`missing`), and its parts.
    """

    score: float | None
    covers: frozenset
    missing: list
    parts: list


@dataclass
class ScopeResult:
    """
    Everything scored in one scope: its KPIs (by id), its dimensions (by dimension value), and `pooled`
    {kpi id: Observed}, the observations of the scope and below, which its parent pools in turn.
    """

    level: str
    domain: object
    service: object
    kpis: dict
    dimensions: dict
    pooled: dict


def _kpi_part(slug, weight, result):
    return {"kind": KPI, "kpi": slug, "weight": weight, "score": result.score, "value": result.value}


def _dimension(kpi_weights, own, members):
    """
    The DimensionResult of one scope: `kpi_weights` {slug: weight} of the dimension's scored KPIs, `own`
    {slug: KpiResult} of the observations recorded at the scope itself, `members` [(member, DimensionResult)] of its
    services or domains, `member` being {"domain", "service", "name"} (`_member`).
    """
    own = {slug: result for slug, result in own.items() if slug in kpi_weights and result.score is not None}
    below = frozenset().union(*(result.covers for _, result in members))
    scored_members = [{**member, "score": result.score} for member, result in members if result.score is not None]
    shared = {slug: result for slug, result in own.items() if slug in below}
    if shared:
        recorded_here = _dimension(kpi_weights, shared, [])
        scored_members.append({"domain": None, "service": None, "name": RECORDED_HERE, "score": recorded_here.score,
                               "parts": recorded_here.parts})
    parts = []
    if scored_members:
        parts.append({
            "kind": MEMBERS,
            "weight": sum(kpi_weights[slug] for slug in below),
            "score": sum(member["score"] for member in scored_members) / len(scored_members),
            "kpis": sorted(below),
            "members": scored_members,
        })
    own_only = sorted((slug for slug in own if slug not in below), key=lambda slug: (-kpi_weights[slug], slug))
    parts += [_kpi_part(slug, kpi_weights[slug], own[slug]) for slug in own_only]
    score, _, _ = weighted_mean({index: part["score"] for index, part in enumerate(parts)},
                                {index: part["weight"] for index, part in enumerate(parts)})
    covers = below | frozenset(own_only)
    return DimensionResult(score, covers, sorted(set(kpi_weights) - covers), parts)


def _scope(level, domain, service, own, members, definitions, weights):
    """
    The ScopeResult of one scope from its own observations {kpi id: Observed} and its members' ScopeResults, with
    `definitions` {kpi id: definition} and `weights` {dimension: {slug: weight}} of the scored KPIs.
    """
    pooled = defaultdict(Observed)
    for kpi_id, observed in own.items():
        pooled[kpi_id].absorb(observed)
    for _, member in members:
        for kpi_id, observed in member.pooled.items():
            pooled[kpi_id].absorb(observed)
    own_results = {
        definitions[kpi_id].slug: observed.scored(definitions[kpi_id]) for kpi_id, observed in own.items()
    }
    dimensions = {
        dimension: _dimension(kpi_weights, own_results, [(about, member.dimensions[dimension]) for about, member in members])
        for dimension, kpi_weights in weights.items()
    }
    return ScopeResult(
        level, domain, service,
        kpis={kpi_id: observed.scored(definitions[kpi_id]) for kpi_id, observed in pooled.items()},
        dimensions=dimensions,
        pooled=pooled,
    )


def scored_weights(definitions):
    """{dimension: {slug: weight}} of the scored KPIs among `definitions`."""
    return {
        dimension.value: {
            definition.slug: kpi_weight(definition)
            for definition in definitions
            if definition.dimension == dimension and is_scored(definition)
        }
        for dimension in SCORED_DIMENSIONS
    }


def own_dimensions(kpi_results, weights):
    """
    {dimension: DimensionResult} of a scope scored from its own KPIs alone, as a service is: `kpi_results`
    {slug: KpiResult}, `weights` as scored_weights gives them.
    """
    return {dimension: _dimension(kpi_weights, kpi_results, []) for dimension, kpi_weights in weights.items()}


def _member(domain, service=None):
    return {"domain": domain.slug, "service": service.slug if service else None, "name": (service or domain).name}


def scope_results(company, domains, services, own, versions):
    """
    [ScopeResult] of every service, domain and the company itself (in that order), from `own`
    {(level, scope id): {kpi id: Observed}} of the observations recorded at each scope and `versions`
    (scoring.versions.definitions_in_force).
    """
    definitions = {kpi_id: version.definition for kpi_id, version in versions.items()}
    weights = scored_weights(definitions.values())

    def scope(level, domain, service, own_here, members):
        return _scope(level, domain, service, own_here, members, definitions, weights)

    results = []
    by_domain = defaultdict(list)
    for service in services:
        result = scope(ScopeLevel.SERVICE, service.domain, service, own.get((ScopeLevel.SERVICE, service.pk), {}), [])
        by_domain[service.domain_id].append((_member(service.domain, service), result))
        results.append(result)
    domain_members = []
    for domain in domains:
        result = scope(ScopeLevel.DOMAIN, domain, None, own.get((ScopeLevel.DOMAIN, domain.pk), {}), by_domain[domain.pk])
        domain_members.append((_member(domain), result))
        results.append(result)
    results.append(scope(ScopeLevel.COMPANY, None, None, own.get((ScopeLevel.COMPANY, company.pk), {}), domain_members))
    return results
