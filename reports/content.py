"""
What a health report says, read from what the cockpit reads: the company's stored score snapshots (composite,
dimensions, KPIs), its breaches, the approved proposals of definitions and weights, the definitions' review dates
and the alert methodology's proof (kpis.proof, as the cockpit's panel and `GET /api/metrics/kpis/`). Nothing here
recomputes a score: a report shows the numbers the cockpit showed for the same days.

An audience of executives sees exec KPIs only: an internal KPI is absent from every list, chart, change and id.
"""
import json

from django.core.exceptions import FieldDoesNotExist
from django.db.models import Q
from django.utils.text import capfirst

from kpis.choices import ProposalStatus, Visibility
from kpis.models import KpiChangeProposal, KpiDefinition
from kpis.proof import methodology_kpis
from scoring.models import SCORED_DIMENSIONS, Breach, DimensionWeightsProposal
from scoring.normalisation import kpi_weight
from scoring.scorecards import snapshots_of
from cockpit.charts import line_chart
from cockpit.formatting import DIMENSION_LABELS, band_of, format_number, format_score, format_value
from cockpit.pages.parts import composite_breakdown

from .choices import Audience

# How many KPIs a dimension lists as the ones that moved it most.
MOVERS_PER_DIMENSION = 3


def audience_definitions(audience):
    """{slug: definition} of the KPIs a report for `audience` shows."""
    definitions = KpiDefinition.objects.select_related("owner")
    if audience != Audience.INTERNAL:
        definitions = definitions.filter(visibility=Visibility.EXEC)
    return {definition.slug: definition for definition in definitions}


def _change(now, before):
    if now is None or before is None:
        return None
    return now - before


def _change_text(change):
    if change is None:
        return "–"
    return "±0.0" if abs(change) < 0.05 else f"{change:+.1f}"


def _trend_css(change):
    if change is None or abs(change) < 0.05:
        return "flat"
    return "better" if change > 0 else "worse"


def _snapshots(company, period, previous):
    """The company-level snapshots of both periods, oldest first, with only the fields the report reads."""
    return list(
        snapshots_of(company, None, None)
        .filter(day__gte=previous.start, day__lte=period.end)
        .order_by("day")
        .only("id", "day", "composite", "dimensions", "kpis", "inputs", "computed_at")
    )


def _last_in(snapshots, period):
    inside = [snapshot for snapshot in snapshots if period.start <= snapshot.day <= period.end]
    return inside[-1] if inside else None


def _movers(dimension, now, before, definitions):
    """The visible KPIs of `dimension` whose weighted score changed most between the two snapshots."""
    movers = []
    for slug, data in now.kpis.items():
        earlier = before.kpis.get(slug) if before else None
        if slug not in definitions or data.get("dimension") != dimension or not earlier:
            continue
        change = _change(data["score"], earlier["score"])
        if not change:
            continue
        definition = definitions[slug]
        movers.append({
            "name": definition.name,
            "value_before": format_value(earlier["value"], definition.units),
            "value_now": format_value(data["value"], definition.units),
            "score_before": format_score(earlier["score"]),
            "score_now": format_score(data["score"]),
            "change": _change_text(change),
            "css": _trend_css(change),
            "impact": abs(change) * kpi_weight(definition),
        })
    return sorted(movers, key=lambda mover: -mover["impact"])[:MOVERS_PER_DIMENSION]


def _dimensions(now, before, series, definitions):
    days = [snapshot.day for snapshot in series]
    rows = []
    for dimension in SCORED_DIMENSIONS:
        data = now.dimensions.get(dimension.value) or {"score": None, "weight": 0}
        earlier = ((before.dimensions if before else {}).get(dimension.value) or {}).get("score")
        change = _change(data["score"], earlier)
        values = [(snapshot.dimensions.get(dimension.value) or {}).get("score") for snapshot in series]
        rows.append({
            "key": dimension.value,
            "label": dimension.label,
            "score": format_score(data["score"]),
            "score_value": data["score"] or 0,
            "before": format_score(earlier),
            "change": _change_text(change),
            "css": _trend_css(change),
            "weight": data["weight"],
            "band": band_of(data["score"]),
            "sparkline": line_chart(days, [(dimension.label, "spark", values)], low=0, high=100, width=160, height=36, axes=False),
            "movers": _movers(dimension.value, now, before, definitions),
        })
    return rows


def _composite_chart(series, period):
    """The composite per day of both periods: the previous one in grey, this one in ink, over the health bands."""
    days = [snapshot.day for snapshot in series]
    earlier = [snapshot.composite if snapshot.day < period.start else None for snapshot in series]
    current = [snapshot.composite if snapshot.day >= period.start else None for snapshot in series]
    return line_chart(days, [("This period", "composite", current), ("Previous period", "previous", earlier)],
                      low=0, high=100, bands=True, height=190)


def _where(breach, company):
    return (breach.service or breach.domain or company).name


def _breaches(company, period, definitions):
    start, end = period.moments
    rows = (
        Breach.objects.filter(company=company, kpi__slug__in=list(definitions))
        .filter(Q(opened_at__gte=start, opened_at__lt=end) | Q(closed_at__gte=start, closed_at__lt=end))
        .select_related("kpi", "domain", "service")
        .order_by("opened_at", "id")
    )
    opened, closed, ids = [], [], []
    for breach in rows:
        ids.append(breach.pk)
        row = {
            "kpi": breach.kpi.name,
            "where": _where(breach, company),
            "opened_at": breach.opened_at,
            "closed_at": breach.closed_at,
            "critical": format_value(breach.critical_threshold, breach.kpi.units),
            "worst": format_value(breach.worst_value, breach.kpi.units),
            "duration": _duration(breach.opened_at, breach.closed_at),
        }
        if start <= breach.opened_at < end:
            opened.append(row)
        if breach.closed_at is not None and start <= breach.closed_at < end:
            closed.append(row)
    return opened, closed, ids


def _duration(opened_at, closed_at):
    if closed_at is None:
        return ""
    hours = (closed_at - opened_at).total_seconds() / 3600
    return f"{hours / 24:.1f} d" if hours >= 48 else f"{hours:.1f} h"


def _shown(value):
    if value is None or value == "":
        return "–"
    if isinstance(value, (dict, list)):
        return json.dumps(value, separators=(", ", ": "))
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return format_number(value)
    return str(value)


def _field_label(name):
    try:
        return capfirst(KpiDefinition._meta.get_field(name).verbose_name)
    except FieldDoesNotExist:  # a field since removed from the model keeps its stored name
        return name


def _definition_changes(period, definitions):
    """The approved proposals of visible definitions that came into force in the period, oldest first."""
    start, end = period.moments
    proposals = (
        KpiChangeProposal.objects.filter(status=ProposalStatus.APPROVED, decided_at__gte=start, decided_at__lt=end,
                                         kpi__slug__in=list(definitions))
        .select_related("kpi", "author", "decided_by")
        .order_by("decided_at", "id")
    )
    return [
        {
            "id": proposal.pk,
            "reference": f"proposal #{proposal.pk}",
            "subject": proposal.kpi.name,
            "changes": [{"field": _field_label(name), "old": _shown(change["old"]), "new": _shown(change["new"])}
                        for name, change in sorted(proposal.changes.items())],
            "author": proposal.author.get_username(),
            "reason": proposal.reason,
            "approver": proposal.decided_by.get_username(),
            "comment": proposal.decision_comment,
            "emergency_reason": proposal.emergency_reason,
            "in_force_at": proposal.decided_at,
            "history_id": proposal.applied_history_id,
        }
        for proposal in proposals
    ]


def _weights_changes(period):
    start, end = period.moments
    proposals = (
        DimensionWeightsProposal.objects.filter(status=ProposalStatus.APPROVED, decided_at__gte=start, decided_at__lt=end)
        .select_related("author", "decided_by")
        .order_by("decided_at", "id")
    )
    return [
        {
            "id": proposal.pk,
            "reference": f"weights proposal #{proposal.pk}",
            "subject": "Dimension weights",
            # Weights are stored as decimal strings ("25.00"), shown as numbers ("25").
            "changes": [{"field": DIMENSION_LABELS[name], "old": _shown(float(change["old"])), "new": _shown(float(change["new"]))}
                        for name, change in proposal.ordered_changes()],
            "author": proposal.author.get_username(),
            "reason": proposal.reason,
            "approver": proposal.decided_by.get_username(),
            "comment": proposal.decision_comment,
            "emergency_reason": "",
            "in_force_at": proposal.decided_at,
            "history_id": proposal.applied_history_id,
        }
        for proposal in proposals
    ]


def _overdue_reviews(period, definitions):
    """The visible definitions whose review was due by the period's last day and not done, most overdue first."""
    overdue = KpiDefinition.objects.filter(slug__in=list(definitions)).due_for_review(period.end).select_related("owner")
    return [
        {
            "name": definition.name,
            "owner": definition.owner.get_username() if definition.owner else definition.owner_role,
            "owner_role": definition.owner_role,
            "due": definition.next_review_due,
            "days_overdue": (period.end - definition.next_review_due).days,
        }
        for definition in overdue.order_by("next_review_due", "slug")
    ]


def _snapshot_source(snapshot, definitions):
    if snapshot is None:
        return None
    return {
        "id": snapshot.pk,
        "day": snapshot.day.isoformat(),
        "computed_at": snapshot.computed_at.isoformat(),
        "weights_history_id": snapshot.inputs.get("weights_history_id"),
        "definitions": {slug: history_id for slug, history_id in sorted(snapshot.inputs.get("definitions", {}).items())
                        if slug in definitions},
    }


def report_content(company, period, audience):
    """
    (context, sources): everything the report's template shows for `company` over `period` as `audience` reads
    it, and what it was computed from (snapshot ids and versions, definition and weights history ids, proposal and
    breach ids) for the stored report.
    """
    definitions = audience_definitions(audience)
    previous = period.previous()
    series = _snapshots(company, period, previous)
    now, before = _last_in(series, period), _last_in(series, previous)
    opened, closed, breach_ids = _breaches(company, period, definitions)
    changes = _definition_changes(period, definitions)
    weights = _weights_changes(period)
    start, end = period.moments
    context = {
        "company": company,
        "period": period,
        "previous": previous,
        "audience": Audience(audience),
        "snapshot": now,
        "previous_snapshot": before,
        "breaches_opened": opened,
        "breaches_closed": closed,
        "changes": changes + weights,
        "overdue_reviews": _overdue_reviews(period, definitions),
        "methodology": methodology_kpis(company, start=start, end=end, visible_slugs=list(definitions)),
    }
    if now is not None:
        change = _change(now.composite, before.composite if before else None)
        context.update({
            "composite": format_score(now.composite),
            "composite_before": format_score(before.composite if before else None),
            "composite_change": _change_text(change),
            "composite_css": _trend_css(change),
            "band": band_of(now.composite),
            "composite_parts": composite_breakdown(now.dimensions),
            "composite_chart": _composite_chart(series, period),
            "dimensions": _dimensions(now, before, [s for s in series if s.day >= period.start], definitions),
        })
    sources = {
        "period": {"start": period.start.isoformat(), "end": period.end.isoformat()},
        "previous_period": {"start": previous.start.isoformat(), "end": previous.end.isoformat()},
        "snapshot": _snapshot_source(now, definitions),
        "previous_snapshot": _snapshot_source(before, definitions),
        "trend_snapshot_ids": [snapshot.pk for snapshot in series],
        "definition_proposal_ids": [change["id"] for change in changes],
        "weights_proposal_ids": [change["id"] for change in weights],
        "breach_ids": breach_ids,
    }
    return context, sources
