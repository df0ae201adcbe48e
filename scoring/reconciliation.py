"""
What a reader sees of a score's parts, for the scorecards API and the cockpit alike: the parts a snapshot stores
(scoring.cascade) with each part's share of the weight, and the KPIs the reader may not see folded into ONE line
with their count, share and score but no names or values. The shown parts recombine to the shown score:
score = sum(share x part score) / 100.
"""
from .cascade import KPI, MEMBERS
from .models import SCORED_DIMENSIONS
from .normalisation import SCORE_FORMULAS

HIDDEN = "hidden"


def _share(weight, total):
    return 100.0 * weight / total if total else 0.0


def _weighted_score(parts):
    weight = sum(part["weight"] for part in parts)
    return sum(part["weight"] * part["score"] for part in parts) / weight


def _kpi_part(part, share):
    shown = {"kind": KPI, "kpi": part["kpi"], "weight": part["weight"], "share": share, "score": part["score"],
             "value": part["value"]}
    formula = SCORE_FORMULAS.get(part["kpi"])
    if formula is not None:
        shown["formula"] = formula.shown(part["value"])
    return shown


def _members_part(part, share, visible):
    members = [
        {key: value for key, value in member.items() if key != "parts"}
        | ({"parts": reader_parts(member["parts"], visible)} if "parts" in member else {})
        for member in part["members"]
    ]
    return {
        "kind": MEMBERS,
        "weight": part["weight"],
        "share": share,
        "score": part["score"],
        "kpis": [slug for slug in part["kpis"] if slug in visible],
        "hidden_kpis": sum(1 for slug in part["kpis"] if slug not in visible),
        "members": members,
    }


def reader_parts(parts, visible):
    """
    The parts of a stored dimension (its "parts") as a reader who may see the KPI slugs `visible` sees them:
    kpi parts (with the seed formula's term where the KPI has one), the members' mean with its members, and at
    most one "hidden" part for the KPIs the reader may not see.
    """
    total = sum(part["weight"] for part in parts)
    shown, hidden = [], []
    for part in parts:
        share = _share(part["weight"], total)
        if part["kind"] == KPI and part["kpi"] not in visible:
            hidden.append(part)
        elif part["kind"] == KPI:
            shown.append(_kpi_part(part, share))
        else:
            shown.append(_members_part(part, share, visible))
    if hidden:
        weight = sum(part["weight"] for part in hidden)
        shown.append({"kind": HIDDEN, "count": len(hidden), "weight": weight, "share": _share(weight, total),
                      "score": _weighted_score(hidden)})
    return shown


def dimension_parts(data, visible):
    """`reader_parts` of a snapshot's dimension data (none for a snapshot computed before parts were stored)."""
    return reader_parts(data.get("parts", []), visible)


def composite_parts(dimensions):
    """The composite's parts: each dimension with a score, its weight, share of the weights counted and score."""
    counted = [
        (dimension.value, dimensions[dimension.value])
        for dimension in SCORED_DIMENSIONS
        if dimension.value in dimensions and dimensions[dimension.value]["score"] is not None
        and dimensions[dimension.value]["weight"] > 0
    ]
    total = sum(data["weight"] for _, data in counted)
    return [
        {"dimension": name, "weight": data["weight"], "share": _share(data["weight"], total), "score": data["score"]}
        for name, data in counted
    ]
