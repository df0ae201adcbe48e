"""
Scorecards: a stored snapshot as one persona sees it. The composite and dimension scores are the
snapshot's; the KPI rows, and the KPI slugs named in coverage, are only those the caller may see, so an
internal KPI never reaches an executive or stakeholder, not even by name.
"""
from django.core.exceptions import ValidationError

from tenancy.models import Domain, Service
from kpis.choices import Visibility
from kpis.models import KpiDefinition
from kpis.roles import may_use_persona

from .bands import band_for
from .cascade import CASCADE_RULE
from .models import ScoreSnapshot
from .reconciliation import composite_parts, dimension_parts

PERSONAS = ("exec", "stakeholder", "responder")
# The exec and stakeholder scorecards show exec KPIs only, whoever asks.
PERSONAS_SEEING_INTERNAL = {"responder"}


def resolve_scope(company, scope):
    """
    (domain, service) of a scope parameter: "company" (or empty), "<domain>" or "<domain>/<service>";
    an unknown one is a ValidationError naming it.
    """
    if not scope or scope == "company":
        return None, None
    if "\x00" in scope:  # no slug has one, and PostgreSQL cannot be asked for it
        raise ValidationError({"scope": f"'{company.slug}' has no domain or service {scope!r}."})
    domain_slug, _, service_slug = scope.partition("/")
    domain = Domain.objects.filter(company=company, slug=domain_slug).first()
    if domain is None:
        raise ValidationError({"scope": f"'{company.slug}' has no domain '{domain_slug}'."})
    if not service_slug:
        return domain, None
    service = Service.objects.filter(domain=domain, slug=service_slug).first()
    if service is None:
        raise ValidationError({"scope": f"'{company.slug}/{domain_slug}' has no service '{service_slug}'."})
    return domain, service


def snapshots_of(company, domain, service):
    return ScoreSnapshot.objects.filter(company=company, domain=domain, service=service)


def visible_slugs(user, persona=None):
    """The KPI slugs `user` may see, narrowed to exec KPIs for the exec and stakeholder personas."""
    definitions = KpiDefinition.objects.visible_to(user)
    if persona is not None and persona not in PERSONAS_SEEING_INTERNAL:
        definitions = definitions.filter(visibility=Visibility.EXEC)
    return set(definitions.values_list("slug", flat=True))


def band_payload(score):
    band = band_for(score)
    if band is None:
        return None
    return {"key": band.key, "name": band.name, "colour": band.colour, "action": band.action}


def _scope_payload(snapshot):
    return {
        "level": snapshot.level,
        "domain": snapshot.domain.slug if snapshot.domain_id else None,
        "service": snapshot.service.slug if snapshot.service_id else None,
    }


def _dimensions_payload(snapshot, slugs):
    return {
        dimension: {
            "score": data["score"],
            "band": band_payload(data["score"]),
            "weight": data["weight"],
            "counted": [slug for slug in data["counted"] if slug in slugs],
            "missing": [slug for slug in data["missing"] if slug in slugs],
            "parts": dimension_parts(data, slugs),
        }
        for dimension, data in snapshot.dimensions.items()
    }


def scorecard(snapshot, *, user, persona):
    """The scorecard payload of `snapshot` for `persona` as `user` may see it."""
    if persona not in PERSONAS:
        raise ValidationError({"persona": f"'{persona}' is not one of {', '.join(PERSONAS)}."})
    if not may_use_persona(user, persona):
        raise PermissionError(f"The {persona} scorecard is for members of its group.")
    slugs = visible_slugs(user, persona)
    definitions = {kpi.slug: kpi for kpi in KpiDefinition.objects.filter(slug__in=slugs & snapshot.kpis.keys())}
    kpis = [
        {
            "slug": slug,
            "name": definitions[slug].name,
            "units": definitions[slug].units,
            "direction": definitions[slug].direction,
            "dimension": data.get("dimension"),
            "value": data["value"],
            "target": data["target"],
            "critical_threshold": data["critical"],
            "score": data["score"],
            "status": band_payload(data["score"]),
            "observations": data["observations"],
        }
        for slug, data in sorted(snapshot.kpis.items())
        if slug in definitions
    ]
    return {
        "persona": persona,
        "company": snapshot.company.slug,
        "scope": _scope_payload(snapshot),
        "date": snapshot.day.isoformat(),
        "composite": snapshot.composite,
        "band": band_payload(snapshot.composite),
        "composite_parts": composite_parts(snapshot.dimensions),
        "cascade_rule": CASCADE_RULE,
        "dimensions": _dimensions_payload(snapshot, slugs),
        "coverage": snapshot.coverage,
        "kpis": kpis,
        "computed_at": snapshot.computed_at.isoformat(),
    }


def score_series(snapshots, slugs):
    """
    The daily composite and dimension scores of `snapshots`, oldest first, for trends, each with its parts as a
    reader who may see the KPI `slugs` sees them.
    """
    return [
        {
            "date": snapshot.day.isoformat(),
            "composite": snapshot.composite,
            "band": band_payload(snapshot.composite),
            "composite_parts": composite_parts(snapshot.dimensions),
            "dimensions": {dimension: data["score"] for dimension, data in snapshot.dimensions.items()},
            "dimension_parts": {dimension: dimension_parts(data, slugs) for dimension, data in snapshot.dimensions.items()},
        }
        for snapshot in snapshots.order_by("day")
    ]
