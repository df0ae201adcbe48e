"""
The exec cockpit's pages: what each page shows, read from stored snapshots and the incident data behind them.

Every page runs a fixed handful of queries however many KPIs, scopes or days it shows: one per kind of thing
(snapshots of the scope, definitions, breaches, ...), never one per KPI. What a user may see is the API's rule
(`KpiDefinition.objects.visible_to`): an internal KPI is absent from every table, link and chart of an
executive or stakeholder, and its own pages do not exist for them. The scores themselves are the snapshot's,
as in the scorecards API.

Charts are drawn here as SVG geometry (paths in a fixed view box) for the templates to render inline.
"""
import datetime
import math
from dataclasses import dataclass, field
from urllib.parse import urlencode

from django.core.exceptions import ValidationError
from django.db.models import Count, Max
from django.http import Http404
from django.urls import reverse
from django.utils.dateparse import parse_date

from incidents.models import Company, Incident
from kpis.calculators import EVIDENCE, INCIDENT, UnknownCalculator, get_calculator
from kpis.choices import Dimension, Direction, Status, Units
from kpis.history import version_of
from kpis.models import KpiDefinition, Observation
from kpis.permissions import may_read_history
from kpis.proof import TIME_RANGES, kpi_metrics

from .bands import BANDS, band_for
from .calculators import kpi_weight
from .choices import ScopeLevel
from .models import SCORED_DIMENSIONS, Breach, ScoreSnapshot
from .scorecards import resolve_scope, snapshots_of
from .services import day_bounds

TREND_DAYS = 90
# The trend arrow compares a KPI with its value this many days earlier.
ARROW_LOOKBACK = datetime.timedelta(days=7)
# The measurement period of the alert-methodology panel, ending with the scored day.
METHODOLOGY_RANGE = "30d"
# An incident page lists at most this many of its alerts (a storm can correlate thousands).
ALERTS_SHOWN = 200
# A KPI page lists at most this many observations of one day.
OBSERVATIONS_SHOWN = 500
INCIDENTS_SHOWN = 200
DIMENSION_LABELS = {**dict(Dimension.choices), Dimension.NONE: "Tracked, not in the score"}
UNIT_LABELS = dict(Units.choices)


# --- Scope --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Scope:
    """A company, or one of its domains or services: the cockpit's unit of navigation."""

    company: Company
    domain: object = None
    service: object = None

    @property
    def param(self):
        """The `scope` parameter of this scope: "" (the company), "<domain>" or "<domain>/<service>"."""
        if self.service is not None:
            return f"{self.domain.slug}/{self.service.slug}"
        return self.domain.slug if self.domain is not None else ""

    @property
    def level(self):
        if self.service is not None:
            return ScopeLevel.SERVICE
        return ScopeLevel.DOMAIN if self.domain is not None else ScopeLevel.COMPANY

    @property
    def name(self):
        return (self.service or self.domain or self.company).name

    def query(self, **extra):
        """The query string naming this scope (and `extra` parameters), for links."""
        params = {"company": self.company.slug}
        if self.param:
            params["scope"] = self.param
        params.update({key: value for key, value in extra.items() if value not in (None, "")})
        return "?" + urlencode(params)

    def url(self, name, *args, **extra):
        return reverse(f"cockpit:{name}", args=args) + self.query(**extra)

    def breadcrumbs(self):
        """[(name, overview url)] from the company down to this scope."""
        crumbs = [(self.company.name, Scope(self.company).url("home"))]
        if self.domain is not None:
            crumbs.append((self.domain.name, Scope(self.company, self.domain).url("home")))
        if self.service is not None:
            crumbs.append((self.service.name, self.url("home")))
        return crumbs

    def snapshots(self):
        return snapshots_of(self.company, self.domain, self.service)


def scope_from(params):
    """
    The Scope named by `company` (default: the first company) and `scope` parameters; Http404 naming the
    parameter at fault when either names nothing.
    """
    slug = params.get("company")
    companies = Company.objects.order_by("slug")
    company = companies.filter(slug=slug).first() if slug else companies.first()
    if company is None:
        raise Http404(f"company: no company has the slug '{slug}'." if slug else "There is no company yet; load data first.")
    try:
        domain, service = resolve_scope(company, params.get("scope"))
    except ValidationError as error:
        raise Http404(f"scope: {error.message_dict['scope'][0]}") from error
    return Scope(company, domain, service)


def day_from(params):
    """The `day` parameter as a date, None when absent; Http404 naming it when it is not a date."""
    value = params.get("day")
    if not value:
        return None
    day = parse_date(value)
    if day is None:
        raise Http404(f"day: '{value}' is not a date (YYYY-MM-DD).")
    return day


def _snapshot_on(scope, day):
    """The scope's snapshot of `day`, or its latest when `day` is None (None when nothing is scored)."""
    snapshots = scope.snapshots()
    return (snapshots.filter(day=day) if day else snapshots.order_by("-day")).first()


def _visible_definitions(user):
    """{slug: definition} of every KPI `user` may see, in one query."""
    return {definition.slug: definition for definition in KpiDefinition.objects.visible_to(user)}


# --- Formatting -------------------------------------------------------------------------------------------

UNIT_FORMATS = {
    Units.PERCENT: "{} %",
    Units.PERCENT_CHANGE: "{} %",
    Units.MINUTES: "{} min",
    Units.HOURS: "{} h",
    Units.DAYS: "{} d",
    Units.MONTHS: "{} mo",
    Units.USD: "${}",
    Units.RATIO: "{}×",
    Units.PER_DAY: "{}/day",
    Units.PER_HOUR: "{}/h",
    Units.PER_MONTH: "{}/month",
    Units.COUNT: "{}",
    Units.SCORE: "{}",
}


def format_number(value):
    """Four significant digits (99.89, 34.03, 0.065), whole thousands without an exponent."""
    if value is None:
        return "–"
    if abs(value) >= 10000:
        return f"{value:,.0f}"
    return f"{value:.4g}"


def format_value(value, units):
    """A KPI value in its units, e.g. "99.89 %", "34.03 min", "$12,400"."""
    if value is None:
        return "–"
    return UNIT_FORMATS.get(units, "{} " + UNIT_LABELS.get(units, "")).format(format_number(value)).strip()


def format_score(score):
    return "–" if score is None else f"{score:.1f}"


def band_of(score):
    """{key, name, colour, action} of a score's band, or the "no data" pseudo-band."""
    band = band_for(score)
    if band is None:
        return {"key": "none", "name": "No data", "colour": "grey", "action": "Provide data"}
    return {"key": band.key, "name": band.name, "colour": band.colour, "action": band.action}


def trend_arrow(now, before, direction):
    """
    How a KPI moved since the earlier value: {symbol, label, css}; "better"/"worse" follow the KPI's direction.
    None when either value is missing.
    """
    if now is None or before is None:
        return None
    if abs(now - before) <= 1e-9 * max(1.0, abs(before)):
        return {"symbol": "→", "label": "unchanged", "css": "flat"}
    rising = now > before
    better = rising == (direction == Direction.HIGHER_IS_BETTER)
    return {
        "symbol": "↑" if rising else "↓",
        "label": f"{'up' if rising else 'down'} from {format_number(before)} ({'better' if better else 'worse'})",
        "css": "better" if better else "worse",
    }


# --- Charts ------------------------------------------------------------------------------------------------


@dataclass
class Chart:
    """An SVG line chart in a `width` x `height` view box: paths, reference lines, zones and axis labels."""

    width: int
    height: int
    lines: list = field(default_factory=list)
    points: list = field(default_factory=list)
    references: list = field(default_factory=list)
    zones: list = field(default_factory=list)
    y_ticks: list = field(default_factory=list)
    x_labels: list = field(default_factory=list)

    @property
    def view_box(self):
        return f"0 0 {self.width} {self.height}"

    @property
    def empty(self):
        return not any(line["path"] for line in self.lines)


PLOT_LEFT, PLOT_RIGHT, PLOT_TOP, PLOT_BOTTOM = 40, 8, 8, 22


def _scale(low, high, top, bottom):
    span = (high - low) or 1.0
    return lambda value: round(bottom - (value - low) / span * (bottom - top), 1)


def _path(xs, values, y_of):
    """An SVG path through the present values; a missing value breaks the line."""
    parts, pen_down = [], False
    for x, value in zip(xs, values):
        if value is None:
            pen_down = False
            continue
        parts.append(f"{'L' if pen_down else 'M'}{x},{y_of(value)}")
        pen_down = True
    return " ".join(parts)


def line_chart(days, series, *, low, high, width=640, height=200, axes=True, references=(), bands=False, links=None):
    """
    A Chart of `series` [(label, css class, [value or None per day])] over `days` (dates, oldest first), with
    y from `low` to `high`. `references` are [(label, css class, value)] drawn as horizontal lines; `bands`
    shades the health bands behind 0-100 scores; `links` (one url per day) makes the first series' points links.
    """
    left, bottom = (PLOT_LEFT, height - PLOT_BOTTOM) if axes else (2, height - 2)
    right, top = (width - PLOT_RIGHT, PLOT_TOP) if axes else (width - 2, 2)
    y_of = _scale(low, high, top, bottom)
    first = days[0] if days else None
    span = max((days[-1] - first).days, 1) if days else 1
    xs = [round(left + (day - first).days / span * (right - left), 1) for day in days]
    chart = Chart(width, height)
    for label, css, values in series:
        chart.lines.append({"label": label, "css": css, "path": _path(xs, values, y_of)})
    if links and series:
        chart.points = [
            {"x": x, "y": y_of(value), "href": href, "title": f"{day:%Y-%m-%d}: {format_number(value)}"}
            for x, day, value, href in zip(xs, days, series[0][2], links)
            if value is not None
        ]
    chart.references = [
        {"label": label, "css": css, "y": y_of(value), "x1": left, "x2": right}
        for label, css, value in references
        if value is not None and low <= value <= high
    ]
    if bands:
        ceiling = high
        for band in BANDS:
            chart.zones.append({"key": band.key, "y": y_of(ceiling), "height": round(y_of(band.floor) - y_of(ceiling), 1), "x": left, "width": right - left})
            ceiling = band.floor
    if axes:
        ticks = [low + (high - low) * step / 4 for step in range(5)]
        chart.y_ticks = [{"y": y_of(tick), "label": format_number(round(tick, 6)), "x1": left, "x2": right} for tick in ticks]
        if days:
            chart.x_labels = [{"x": xs[0], "label": f"{days[0]:%b %d}", "anchor": "start"}]
            if len(days) > 1:
                chart.x_labels.append({"x": xs[-1], "label": f"{days[-1]:%b %d}", "anchor": "end"})
    return chart


def _value_range(values):
    """y bounds around `values` on round numbers, four equal steps apart (0-80, 95-100.5), never zero-height."""
    present = [value for value in values if value is not None]
    if not present:
        return 0.0, 1.0
    low, high = min(present), max(present)
    if low == high:
        low, high = low - (abs(low) * 0.1 or 1.0), high + (abs(high) * 0.1 or 1.0)
    magnitude = 10 ** math.floor(math.log10((high - low) / 4))
    for multiple in (1, 2, 2.5, 5, 10, 20, 25, 50, 100):
        step = multiple * magnitude
        bottom = math.floor(low / step) * step
        if bottom + 4 * step >= high:
            return bottom, bottom + 4 * step
    return low, high


# --- Overview (/cockpit/) --------------------------------------------------------------------------------


def _dimension_rows(scope, snapshot, trend):
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
    payload = kpi_metrics(scope.company, time_range=METHODOLOGY_RANGE, end=end, visible_slugs=list(definitions))
    company = Scope(scope.company)
    links = {slug: company.url("kpi", slug) for slug in ("noise-reduction", "mttr-reduction", "self-healed", "patch-compliance", "mttr")}
    return {
        "first_day": (end - TIME_RANGES[METHODOLOGY_RANGE]).date(),
        "last_day": snapshot.day,
        "kpis": payload["kpis"],
        "links": links,
        "runbooks": (payload["kpis"].get("self_healed") or {}).get("runbooks_used", []),
    }


def overview(user, scope, day=None):
    """Everything /cockpit/ shows for `scope` on `day` (default: its latest scored day)."""
    definitions = _visible_definitions(user)
    page = {
        "scope": scope,
        "companies": list(Company.objects.order_by("name").values("slug", "name")),
        "snapshot": None,
    }
    snapshot = _snapshot_on(scope, day)
    if snapshot is None:
        return page
    trend = list(
        scope.snapshots()
        .filter(day__gt=snapshot.day - datetime.timedelta(days=TREND_DAYS), day__lte=snapshot.day)
        .order_by("day")
        .values("day", "composite", "dimensions")
    )
    earlier = scope.snapshots().filter(day=snapshot.day - ARROW_LOOKBACK).values_list("kpis", flat=True).first() or {}
    days = [row["day"] for row in trend]
    page.update({
        "snapshot": snapshot,
        "composite": format_score(snapshot.composite),
        "band": band_of(snapshot.composite),
        "dimensions": _dimension_rows(scope, snapshot, trend),
        "trend": line_chart(days, [("Composite", "composite", [row["composite"] for row in trend])], low=0, high=100, bands=True, height=180),
        "kpis": _kpi_rows(scope, snapshot, earlier, definitions),
        "arrow_since": snapshot.day - ARROW_LOOKBACK,
        "breaches": _open_breaches(scope, definitions),
        "children": _children(scope, snapshot),
        "methodology": _methodology(scope, snapshot, definitions),
    })
    return page


# --- A dimension -------------------------------------------------------------------------------------------


def dimension_detail(user, scope, dimension, day=None):
    """A dimension of `scope`: its score, weight, 90-day trend and the visible KPIs it is computed from."""
    if dimension not in {each.value for each in SCORED_DIMENSIONS}:
        raise Http404(f"dimension: '{dimension}' is not one of {', '.join(each.value for each in SCORED_DIMENSIONS)}.")
    definitions = _visible_definitions(user)
    snapshot = _snapshot_on(scope, day)
    page = {"scope": scope, "dimension": dimension, "label": DIMENSION_LABELS[dimension], "snapshot": snapshot}
    if snapshot is None:
        return page
    trend = list(
        scope.snapshots()
        .filter(day__gt=snapshot.day - datetime.timedelta(days=TREND_DAYS), day__lte=snapshot.day)
        .order_by("day")
        .values("day", "dimensions")
    )
    earlier = scope.snapshots().filter(day=snapshot.day - ARROW_LOOKBACK).values_list("kpis", flat=True).first() or {}
    data = snapshot.dimensions.get(dimension) or {"score": None, "weight": 0}
    values = [(row["dimensions"].get(dimension) or {}).get("score") for row in trend]
    page.update({
        "score": format_score(data["score"]),
        "band": band_of(data["score"]),
        "weight": data["weight"],
        "trend": line_chart([row["day"] for row in trend], [(DIMENSION_LABELS[dimension], "composite", values)], low=0, high=100, bands=True, height=180),
        "kpis": _kpi_rows(scope, snapshot, earlier, definitions, dimension=dimension),
    })
    return page


# --- A KPI and its observations -------------------------------------------------------------------------------


def visible_definition(user, slug):
    """The definition of `slug` if `user` may see it; Http404 otherwise, the same for internal and unknown slugs."""
    definition = KpiDefinition.objects.visible_to(user).filter(slug=slug).select_related("owner").first()
    if definition is None:
        raise Http404(f"kpi: there is no KPI '{slug}'.")
    return definition


def _grain(slug):
    try:
        return get_calculator(slug).grain
    except UnknownCalculator:
        return None  # ingest-only: the observation is its own evidence


def kpi_detail(user, scope, slug, day=None):
    """
    A KPI in `scope`: its daily value over 90 days against target and critical, the observations of one
    day (default: the latest scored), each linked to its incident, and the definition version it was scored under.
    """
    definition = visible_definition(user, slug)
    snapshot = _snapshot_on(scope, day)
    page = {"scope": scope, "definition": definition, "snapshot": snapshot}
    if snapshot is None:
        return page
    # The chart always ends with the latest scored day, whichever day's observations are listed.
    last_day = snapshot.day if day is None else scope.snapshots().aggregate(last=Max("day"))["last"]
    trend = [
        (row["day"], row["kpis"].get(slug))
        for row in scope.snapshots()
        .filter(day__gt=last_day - datetime.timedelta(days=TREND_DAYS), day__lte=last_day)
        .order_by("day")
        .values("day", "kpis")
    ]
    days = [each_day for each_day, _ in trend]
    values = [data["value"] if data else None for _, data in trend]
    low, high = _value_range([*values, definition.target, definition.critical_threshold])
    links = [scope.url("kpi", slug, day=f"{each_day:%Y-%m-%d}") for each_day in days]
    data = snapshot.kpis.get(slug)
    observation_ids = snapshot.inputs.get("observations", {}).get(slug, [])
    observations = list(
        Observation.objects.filter(pk__in=observation_ids[:OBSERVATIONS_SHOWN])
        .select_related("incident", "domain", "service")
        .order_by("observed_at", "pk")
    )
    history_id = snapshot.inputs.get("definitions", {}).get(slug)
    grain = _grain(slug)
    page.update({
        "data": data,
        "value": format_value(data["value"] if data else None, definition.units),
        "target": format_value(data["target"] if data else definition.target, definition.units),
        "critical": format_value(data["critical"] if data else definition.critical_threshold, definition.units),
        "score": format_score(data["score"] if data else None),
        "band": band_of(data["score"]) if data and data["score"] is not None else None,
        "chart": line_chart(
            days,
            [(definition.name, "value", values)],
            low=low,
            high=high,
            references=[("target", "target", definition.target), ("critical", "critical", definition.critical_threshold)],
            links=links,
            height=220,
        ),
        "days": [
            {"day": each_day, "value": format_value(each["value"], definition.units), "score": format_score(each["score"]),
             "observations": each["observations"], "url": link, "selected": each_day == snapshot.day}
            for (each_day, each), link in reversed(list(zip(trend, links)))
            if each
        ],
        "observations": [
            {"observation": observation, "value": format_value(observation.value, definition.units),
             "where": Scope(scope.company, observation.domain, observation.service).name}
            for observation in observations
        ],
        "observation_count": len(observation_ids),
        "version_url": reverse("cockpit:version", args=[slug, history_id]) if history_id else None,
        "grain": grain,
        "evidence": _daily_evidence(scope, slug, snapshot.day) if grain and grain != INCIDENT else None,
    })
    return page


def _daily_evidence(scope, slug, day):
    """
    For a daily company KPI: the period its value of `day` covers (the evidence window ending with the day), the
    numbers behind it, and a link to the incidents they count when they count incidents.
    """
    evidence = EVIDENCE.get(slug)
    start, end = day_bounds(day)
    if evidence is None:
        return {"start": start, "end": end, "figures": [], "incidents_url": None, "by": None, "runbooks": []}
    start = end - evidence.window
    figures = evidence.figures(scope.company, start, end) or {}
    incidents_url = evidence.incidents_by and Scope(scope.company).url(
        "incidents",
        since=f"{start:%Y-%m-%d}",
        until=f"{(end - datetime.timedelta(days=1)):%Y-%m-%d}",
        by=evidence.incidents_by,
    )
    rows = [
        {
            "name": name.replace("_", " "),
            "value": format_number(figure) if isinstance(figure, (int, float)) and not isinstance(figure, bool) else figure,
        }
        for name, figure in figures.items()
        if name != "runbooks_used"
    ]
    return {"start": start, "end": end, "figures": rows, "incidents_url": incidents_url, "by": evidence.incidents_by,
            "runbooks": figures.get("runbooks_used", [])}


def definition_version(user, slug, history_id):
    """The definition of `slug` as recorded in its history row `history_id`; who changed it and why for history readers."""
    definition = visible_definition(user, slug)
    record = KpiDefinition.history.filter(id=definition.pk, history_id=history_id).select_related("history_user").first()
    if record is None:
        raise Http404(f"version: {history_id} is not a version of '{slug}'.")
    reads_history = may_read_history(user)
    return {
        "definition": definition,
        "record": record,
        "version": version_of(record),
        "units": UNIT_LABELS.get(record.units),
        "dimension_label": DIMENSION_LABELS.get(record.dimension, record.dimension),
        "target": format_value(record.target, record.units),
        "critical": format_value(record.critical_threshold, record.units),
        "reads_history": reads_history,
        "admin_url": reverse("admin:kpis_kpidefinition_simple_history", args=[definition.pk, history_id]) if reads_history and user.is_staff else None,
    }


# --- Incidents -----------------------------------------------------------------------------------------------


def incident_detail(user, incident_id):
    """An incident with everything KPIs are computed from: alerts, phases, milestones, surveys, runbook runs."""
    incident = Incident.objects.select_related("company", "service__domain").filter(pk=incident_id).first()
    if incident is None:
        raise Http404(f"incident: there is no incident {incident_id}.")
    service = incident.service
    scope = Scope(incident.company, service.domain if service else None, service)
    observations = (
        Observation.objects.visible_to(user).filter(incident=incident).select_related("kpi").order_by("observed_at", "kpi__slug")
    )
    return {
        "incident": incident,
        "scope": scope,
        "duration": _minutes_between(incident.detected_at, incident.resolved_at),
        "alerts": list(incident.alerts.order_by("issued_at", "pk")[:ALERTS_SHOWN]),
        "alert_count": incident.alerts.count(),
        "phases": list(incident.phases.order_by("entered_at")),
        "milestones": list(incident.milestones.order_by("committed_eta")),
        "surveys": list(incident.survey_responses.order_by("submitted_at")),
        "runbooks": list(incident.runbook_executions.order_by("started_at")),
        "observations": [
            {
                "observation": observation,
                "value": format_value(observation.value, observation.kpi.units),
                "url": scope.url("kpi", observation.kpi.slug, day=f"{observation.observed_at:%Y-%m-%d}"),
            }
            for observation in observations
        ],
    }


def _minutes_between(start, end):
    if start is None or end is None:
        return None
    return round((end - start).total_seconds() / 60, 1)


def incident_list(scope, params):
    """The incidents of `scope` detected (or resolved, with by=resolved) between the `since` and `until` days."""
    since, until = parse_date(params.get("since") or ""), parse_date(params.get("until") or "")
    for name, value in (("since", since), ("until", until)):
        if value is None:
            raise Http404(f"{name}: '{params.get(name, '')}' is not a date (YYYY-MM-DD).")
    by = params.get("by", "detected")
    if by not in ("detected", "resolved"):
        raise Http404(f"by: '{by}' is not one of detected, resolved.")
    incidents = Incident.objects.filter(company=scope.company, **{
        f"{by}_at__gte": day_bounds(since)[0], f"{by}_at__lt": day_bounds(until)[1],
    })
    if scope.service is not None:
        incidents = incidents.filter(service=scope.service)
    elif scope.domain is not None:
        incidents = incidents.filter(service__domain=scope.domain)
    total = incidents.count()
    rows = (
        incidents.select_related("service").annotate(alert_count=Count("alerts"))
        .order_by(f"{by}_at", "pk")[:INCIDENTS_SHOWN]
    )
    return {
        "scope": scope, "since": since, "until": until, "by": by, "total": total,
        "incidents": [{"incident": incident, "duration": _minutes_between(incident.detected_at, incident.resolved_at)} for incident in rows],
    }


# --- Reviews -----------------------------------------------------------------------------------------------


def reviews(user, today):
    """The definitions `user` owns (every one, for a superuser) with their review dates, overdue first."""
    definitions = KpiDefinition.objects.exclude(status=Status.RETIRED).select_related("owner")
    if not user.is_superuser:
        definitions = definitions.filter(owner=user)
    rows = []
    for definition in definitions.order_by("next_review_due", "slug"):
        due = definition.next_review_due
        rows.append({
            "definition": definition,
            "due": due,
            "overdue_days": (today - due).days if due and due <= today else None,
            "admin_url": reverse("admin:kpis_kpidefinition_change", args=[definition.pk]),
        })
    # Overdue first (most overdue at the top), then the rest by due date; undated last.
    rows.sort(key=lambda row: (row["overdue_days"] is None, row["due"] is None, row["due"] or today))
    return {"rows": rows, "today": today, "overdue": sum(1 for row in rows if row["overdue_days"] is not None)}
