"""
The parts of a scope's composite and dimensions as the cockpit lists them, from what scoring.reconciliation lets
the reader see: each part's name, link, share of the weight, score and contribution (share x score), which add up
to the score shown above them.
"""
from urllib.parse import urlencode

from django.urls import reverse

from scoring.cascade import KPI, MEMBERS
from scoring.reconciliation import composite_parts, dimension_parts

from ..formatting import DIMENSION_LABELS, format_score, format_share, format_value


def _row(label, part, *, url=None, detail="", depth=0):
    """A listed part; members of a mean (depth 1) count equally in it and have no share of their own."""
    weighed = "share" in part
    return {
        "label": label,
        "url": url,
        "detail": detail,
        "depth": depth,
        "share": format_share(part["share"]) if weighed else "",
        "score": format_score(part["score"]),
        "contribution": format_score(part["share"] * part["score"] / 100) if weighed else "",
    }


def _member_noun(scope):
    return "service" if scope.domain is not None else "domain"


def _member_url(scope, member, dimension):
    path = member["domain"] + (f"/{member['service']}" if member["service"] else "")
    return reverse("cockpit:dimension", args=[dimension]) + "?" + urlencode({"company": scope.company.slug, "scope": path})


def _kpi_names(slugs, hidden, definitions):
    names = [definitions[slug].name for slug in slugs]
    if hidden:
        names.append(f"{hidden} internal KPI{'s' if hidden > 1 else ''}")
    return ", ".join(names)


def _rows(scope, dimension, parts, definitions, depth=0):
    rows = []
    for part in parts:
        if part["kind"] == KPI:
            definition = definitions[part["kpi"]]
            detail = part.get("formula") or format_value(part["value"], definition.units)
            rows.append(_row(definition.name, part, url=scope.url("kpi", part["kpi"]), detail=detail, depth=depth))
        elif part["kind"] == MEMBERS:
            noun = _member_noun(scope)
            label = f"Mean of {len(part['members'])} {noun}{'s' if len(part['members']) > 1 else ''}"
            detail = "for " + _kpi_names(part["kpis"], part["hidden_kpis"], definitions)
            rows.append(_row(label, part, detail=detail, depth=depth))
            for member in part["members"]:
                if member["domain"] is None:
                    rows.append(_row(f"Recorded at {scope.name} itself, in no {noun}", member, depth=depth + 1))
                    rows += _rows(scope, dimension, member["parts"], definitions, depth + 2)
                else:
                    rows.append(_row(member["name"], member, url=_member_url(scope, member, dimension), depth=depth + 1))
        else:
            label = f"{part['count']} internal KPI{'s' if part['count'] > 1 else ''}"
            rows.append(_row(label, part, detail="not shown to you: their weight and score together", depth=depth))
    return rows


def dimension_breakdown(scope, dimension, data, definitions):
    """The listed parts of one dimension of a snapshot (`data`) as a reader who sees `definitions` sees them."""
    return _rows(scope, dimension, dimension_parts(data, definitions.keys()), definitions)


def composite_breakdown(dimensions):
    """The listed parts of the composite: each scored dimension, its share of the weights and its score."""
    return [
        _row(DIMENSION_LABELS[part["dimension"]], part, detail=f"weight {part['weight']:g}")
        for part in composite_parts(dimensions)
    ]
