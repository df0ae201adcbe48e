"""
A scope's overview (/cockpit/): composite, dimensions, trends, KPI table, open breaches, the next level of the
cascade and the alert-methodology panel; and a dimension's page, which shows the same KPI table for that dimension.
"""
import datetime

from django.http import Http404

from tenancy.access import visible_companies
from kpis.choices import Dimension, Direction
from kpis.models import KpiDefinition
from companyos.api.dates import period_ending
from kpis.proof import kpi_metrics
from scoring.cascade import CASCADE_RULE
from scoring.choices import ScopeLevel
from scoring.models import SCORED_DIMENSIONS, Breach, ScoreSnapshot
from scoring.normalisation import kpi_weight
from scoring.services import day_bounds

from ..charts import line_chart
from ..formatting import DIMENSION_LABELS, band_of, format_score, format_value, trend_arrow
from ..scopes import Scope, snapshot_on
from . import TREND_DAYS
from .parts import composite_breakdown, dimension_breakdown

# The trend arrow compares a KPI with its value this many days earlier.
ARROW_LOOKBACK = datetime.timedelta(days=7)
# The measurement period of the alert-methodology panel, ending with the scored day.
METHODOLOGY_RANGE = "30d"


def _visible_definitions(user):
    """{slug: definition} of every KPI `user` may see, in one query."""
    return {definition.slug: definition for definition in KpiDefinition.objects.visible_to(user)}


def _dimension_rows(scope, snapshot, trend, definitions):
    rows = []
    days = [row["day"] for row in trend]
    for dimension in SCORED_DIMENSIONS:
        data = snapshot.dimensions.get(dimension.value) or {"score": None, "weight": 0, "counted": [], "missing": []}
        values = [(row["dimensions"].get(dimension.value) or {}).get("score") for row in trend]
        rows.append({
            "key": dimension.value,
            "label": dimension.label,
            "score": data["score"],
            "score_text": format_score(data["score"]),
            "weight": data["weight"],
            "band": band_of(data["score"]),
            "url": scope.url("dimension", dimension.value),
            "parts": [part for part in dimension_breakdown(scope, dimension.value, data, definitions) if not part["depth"]],
            "sparkline": line_chart(days, [(dimension.label, "spark", values)], low=0, high=100, width=120, height=28, axes=False),
        })
    return rows


def _kpi_rows(scope, snapshot, earlier_kpis, definitions, dimension=None):
    """The table rows of the visible KPIs of `snapshot` (scored, tracked and missing), by dimension then name."""
    counted = {slug for data in snapshot.dimensions.values() for slug in data["counted"]}
    missing = {slug for data in snapshot.dimensions.values() for slug in data["missing"]}
    order = {value: index for index, value in enumerate(Dimension.values)}
    rows = []
    for slug in sorted(definitions.keys() & (snapshot.kpis.keys() | missing)):
        definition = definitions[slug]
        data = snapshot.kpis.get(slug)
        kpi_dimension = data.get("dimension", definition.dimension) if data else definition.dimension
        if dimension is not None and kpi_dimension != dimension:
            continue
        before = (earlier_kpis.get(slug) or {}).get("value")
        value = data["value"] if data else None
        score = data["score"] if data else None
        coverage = "counted" if slug in counted else "missing" if slug in missing else "tracked"
        rows.append({
            "slug": slug,
            "name": definition.name,
            "dimension": kpi_dimension,
            "dimension_label": DIMENSION_LABELS.get(kpi_dimension, kpi_dimension),
            "value": format_value(value, definition.units),
            "target": format_value(data["target"] if data else definition.target, definition.units),
            "critical": format_value(data["critical"] if data else definition.critical_threshold, definition.units),
            "direction": "higher is better" if definition.direction == Direction.HIGHER_IS_BETTER else "lower is better",
            "score": format_score(score),
            "band": band_of(score) if score is not None else None,
            "observations": data["observations"] if data else 0,
            "coverage": coverage,
            "weight": kpi_weight(definition) if coverage != "tracked" else None,
            "arrow": trend_arrow(value, before, definition.direction),
            "url": scope.url("kpi", slug),
            "order": (order.get(kpi_dimension, len(order)), definition.name),
        })
    return sorted(rows, key=lambda row: row["order"])


def _open_breaches(scope, definitions):
    breaches = Breach.objects.filter(company=scope.company, closed_at__isnull=True, kpi__slug__in=list(definitions))
    if scope.service is not None:
        breaches = breaches.filter(service=scope.service)
    elif scope.domain is not None:
        breaches = breaches.filter(domain=scope.domain)
    rows = []
    for breach in breaches.select_related("kpi", "domain", "service").order_by("-opened_at"):
        where = Scope(scope.company, breach.domain, breach.service)
        rows.append({
            "kpi": breach.kpi,
            "where": where.name,
            "since": breach.started_at,
            "opened_at": breach.opened_at,
            "worst": format_value(breach.worst_value, breach.kpi.units),
            "current": format_value(breach.current_value, breach.kpi.units),
            "current_at": breach.current_at,
            "critical": format_value(breach.critical_threshold, breach.kpi.units),
            "url": where.url("kpi", breach.kpi.slug, day=f"{breach.started_at:%Y-%m-%d}"),
        })
    return rows


def _children(scope, snapshot):
    """The next level of the cascade with their scores of the same day: domains of a company, services of a domain."""
    if scope.service is not None:
        return []
    snapshots = ScoreSnapshot.objects.filter(company=scope.company, day=snapshot.day)
    if scope.domain is None:
        snapshots = snapshots.filter(level=ScopeLevel.DOMAIN).select_related("domain")
    else:
        snapshots = snapshots.filter(level=ScopeLevel.SERVICE, domain=scope.domain).select_related("domain", "service")
    children = []
    for child in snapshots.order_by("domain__name", "service__name"):
        child_scope = Scope(scope.company, child.domain, child.service)
        children.append({"name": child_scope.name, "score": format_score(child.composite), "band": band_of(child.composite), "url": child_scope.url("home")})
    return children


def _methodology(scope, snapshot, definitions):
    """The alert-methodology panel: the proof payload of the scored day's 30-day period, each figure linked to its KPI."""
    end = day_bounds(snapshot.day)[1]
    period = period_ending(end, METHODOLOGY_RANGE)
    payload = kpi_metrics(scope.company, period=period, visible_slugs=list(definitions))
    company = Scope(scope.company)
    links = {slug: company.url("kpi", slug) for slug in ("noise-reduction", "mttr-reduction", "self-healed", "patch-compliance", "mttr")}
    return {
        "first_day": period.start.date(),
        "last_day": snapshot.day,
        "kpis": payload["kpis"],
        "links": links,
        "runbooks": (payload["kpis"].get("self_healed") or {}).get("runbooks_used", []),
        "patch_trend": _patch_trend(payload["kpis"].get("patch_compliance")),
    }


def _patch_trend(patch):
    """A sparkline of the compliance of the latest scan of each day of the proof's 30-day trend; None without two days."""
    trend = (patch or {}).get("trend_30d", [])
    if len(trend) < 2:
        return None
    days = [datetime.date.fromisoformat(point["day"]) for point in trend]
    values = [point["compliance_pct"] for point in trend]
    return line_chart(days, [("Patch compliance", "spark", values)], low=0, high=100, width=160, height=32, axes=False)


def overview(user, scope, day=None):
    """Everything /cockpit/ shows for `scope` on `day` (default: its latest scored day)."""
    definitions = _visible_definitions(user)
    page = {
        "scope": scope,
        "companies": list(visible_companies(user).order_by("name").values("slug", "name")),
        "snapshot": None,
    }
    snapshot = snapshot_on(scope, day)
    if snapshot is None:
        return page
    trend, earlier = _trend_and_earlier(scope, snapshot)
    days = [row["day"] for row in trend]
    page.update({
        "snapshot": snapshot,
        "composite": format_score(snapshot.composite),
        "band": band_of(snapshot.composite),
        "composite_parts": composite_breakdown(snapshot.dimensions),
        "cascade_rule": CASCADE_RULE,
        "dimensions": _dimension_rows(scope, snapshot, trend, definitions),
        "trend": line_chart(days, [("Composite", "composite", [row["composite"] for row in trend])], low=0, high=100, bands=True, height=180),
        "kpis": _kpi_rows(scope, snapshot, earlier, definitions),
        "arrow_since": snapshot.day - ARROW_LOOKBACK,
        "breaches": _open_breaches(scope, definitions),
        "children": _children(scope, snapshot),
        "methodology": _methodology(scope, snapshot, definitions),
    })
    return page


def _trend_and_earlier(scope, snapshot):
    """The scope's days up to the snapshot's (TREND_DAYS of them) and its KPIs of ARROW_LOOKBACK before, for the arrows."""
    trend = list(
        scope.snapshots()
        .filter(day__gt=snapshot.day - datetime.timedelta(days=TREND_DAYS), day__lte=snapshot.day)
        .order_by("day")
        .values("day", "composite", "dimensions")
    )
    earlier = scope.snapshots().filter(day=snapshot.day - ARROW_LOOKBACK).values_list("kpis", flat=True).first() or {}
    return trend, earlier


def dimension_detail(user, scope, dimension, day=None):
    """A dimension of `scope`: its score, weight, 90-day trend and the visible KPIs it is computed from."""
    if dimension not in {each.value for each in SCORED_DIMENSIONS}:
        raise Http404(f"dimension: '{dimension}' is not one of {', '.join(each.value for each in SCORED_DIMENSIONS)}.")
    definitions = _visible_definitions(user)
    snapshot = snapshot_on(scope, day)
    page = {"scope": scope, "dimension": dimension, "label": DIMENSION_LABELS[dimension], "snapshot": snapshot}
    if snapshot is None:
        return page
    trend, earlier = _trend_and_earlier(scope, snapshot)
    data = snapshot.dimensions.get(dimension) or {"score": None, "weight": 0}
    values = [(row["dimensions"].get(dimension) or {}).get("score") for row in trend]
    page.update({
        "score": format_score(data["score"]),
        "band": band_of(data["score"]),
        "weight": data["weight"],
        "parts": dimension_breakdown(scope, dimension, data, definitions),
        "cascade_rule": CASCADE_RULE,
        "trend": line_chart([row["day"] for row in trend], [(DIMENSION_LABELS[dimension], "composite", values)], low=0, high=100, bands=True, height=180),
        "kpis": _kpi_rows(scope, snapshot, earlier, definitions, dimension=dimension),
    })
    return page
