"""
The cascade's other levels: teams (delivery, and what their services record), customer tenants and cohorts (product
adoption). A member of a level (a team, a tenant, a cohort) is scored like a service: its KPI values are the company's
formulas over its rows (the calculators split by the level's Grouping, one statement per KPI; a team's services'
observations pooled by one GROUP BY), each value scored by
scoring.normalisation, each dimension the weighted mean of its KPIs' scores with the definitions' weights, the
composite the dimension weights' mean of the dimensions it has, all with the definitions and weights in force at the
end of the day. Every dimension lists its parts (scoring.cascade), so a reader recombines it.

Levels are computed when asked for, from the same rows the snapshots' calculators read: nothing is stored.
"""
import datetime
from collections import defaultdict
from dataclasses import dataclass
from typing import Callable

from delivery.levels import TEAM_GROUPING, TEAM_KPIS, team_service_observations
from kpis.calculators import Period, get_calculator
from kpis.calculators.toolkit import Grouping, day_values
from product.levels import COHORT_GROUPING, COHORT_KPIS, TENANT_GROUPING, TENANT_KPIS

from .bands import band_for
from .cascade import Observed, own_dimensions, scored_weights
from .normalisation import weighted_mean
from .reconciliation import composite_parts, dimension_parts
from .scorecards import band_payload
from .services import day_bounds
from .versions import definitions_in_force, weights_in_force

LEVEL_RULE = (
    "A team's, tenant's or cohort's dimension score is the weighted mean of its KPIs' scores, as a service's is; its "
    "KPI values are the company's formulas over its own rows (a team's also pool what its services recorded). The "
    "composite weights the dimension scores it has."
)


@dataclass(frozen=True)
class Level:
    """A level: its name, label, the Grouping splitting its KPIs' calculators, and what else it counts."""

    name: str
    label: str
    grouping: Grouping
    kpis: tuple
    # (period, company_id) -> {(member, day): {slug: [(severity, count, total)]}} of what its members' services recorded.
    observed: Callable | None = None


LEVELS = {
    "team": Level("team", "Team", TEAM_GROUPING, TEAM_KPIS, team_service_observations),
    "tenant": Level("tenant", "Tenant", TENANT_GROUPING, TENANT_KPIS),
    "cohort": Level("cohort", "Cohort", COHORT_GROUPING, COHORT_KPIS),
}


def level_observed(level, company, period):
    """{(member, day): {slug: [(severity, count, total)]}} of every member of `level` of `company` in `period`."""
    observed = defaultdict(dict)
    for slug in level.kpis:
        calculator = get_calculator(slug)
        for chunk in calculator.periods(period):
            for (member, day), value in day_values(calculator.rows(chunk, company.pk, group=level.grouping)).items():
                # Rows naming no member (a flag export not split by tenant) belong to the company alone.
                if member not in (None, ""):
                    observed[member, day][slug] = [(None, 1, value)]
    if level.observed:
        for key, kpis in level.observed(period, company.pk).items():
            observed[key].update(kpis)
    return observed


@dataclass
class MemberScores:
    """One member of a level on one day, shaped like a snapshot: composite, band, dimensions with parts, KPIs."""

    member: str
    day: datetime.date
    composite: float | None
    band: str
    dimensions: dict
    kpis: dict


def _scored(member, day, kpis, definitions, weights_version):
    """The MemberScores of `kpis` {slug: groups} with `definitions` {slug: definition} in force."""
    weights_history_id, dimension_weights = weights_version
    results = {}
    for slug, groups in kpis.items():
        if slug in definitions:
            observed = Observed()
            for severity, count, total in groups:
                observed.add(severity, count, total, [])
            results[slug] = observed.scored(definitions[slug])
    dimensions = {}
    for dimension, result in own_dimensions(results, scored_weights(definitions.values())).items():
        if result.parts:
            dimensions[dimension] = {
                "score": result.score, "weight": dimension_weights[dimension], "counted": sorted(result.covers),
                "missing": result.missing, "parts": result.parts,
            }
    composite, _, _ = weighted_mean({name: data["score"] for name, data in dimensions.items()},
                                    {name: dimension_weights[name] for name in dimensions})
    band = band_for(composite)
    return MemberScores(
        member, day, composite, band.key if band else "", dimensions,
        {
            slug: {"value": result.value, "target": definitions[slug].target, "critical": definitions[slug].critical_threshold,
                   "score": result.score, "observations": result.count, "dimension": definitions[slug].dimension}
            for slug, result in sorted(results.items())
        },
    )


def level_scores(level, company, day, *, member=None):
    """
    [MemberScores] of every member of `level` (a Level) of `company` with data on `day` (or only `member`), scored with
    the definitions and weights in force at the end of the day, by member.
    """
    start, end = day_bounds(day)
    observed = {key: kpis for (key, observed_day), kpis in level_observed(level, company, Period(start, end)).items()
                if observed_day == day}
    # What the level measures: its KPIs and those any member's services recorded that day. A KPI it cannot measure
    # (a team's NRR) is not missing from it.
    measured = set(level.kpis).union(*observed.values())
    definitions = {version.definition.slug: version.definition for version in definitions_in_force(end, on=day).values()
                   if version.definition.slug in measured}
    weights_version = weights_in_force(end)
    return [
        _scored(key, day, kpis, definitions, weights_version)
        for key, kpis in sorted(observed.items(), key=lambda item: str(item[0]))
        if member is None or key == member
    ]


def level_payload(level, company, day, *, visible, member=None):
    """
    The members' scores as a reader who may see the KPI slugs `visible` sees them: each member's composite, band,
    composite parts, dimensions with their parts (reconciliation.reader_parts) and visible KPIs.
    """
    return {
        "company": company.slug,
        "level": level.name,
        "day": day.isoformat(),
        "rule": LEVEL_RULE,
        "members": [
            {
                "member": scores.member,
                "composite": scores.composite,
                "band": band_payload(scores.composite),
                "composite_parts": composite_parts(scores.dimensions),
                "dimensions": {
                    name: {"score": data["score"], "weight": data["weight"], "parts": dimension_parts(data, visible),
                           "missing": [slug for slug in data["missing"] if slug in visible]}
                    for name, data in scores.dimensions.items()
                },
                "kpis": {slug: data for slug, data in scores.kpis.items() if slug in visible},
            }
            for scores in level_scores(level, company, day, member=member)
        ],
    }
