"""
A KPI's page (its daily values against target and critical, one day's observations and the evidence behind a daily
value) and the page of the definition version a snapshot scored it under.
"""
import datetime

from django.db.models import Max
from django.http import Http404
from django.urls import reverse
from django.utils import timezone

from kpis.calculators import EVIDENCE, INCIDENT, UnknownCalculator, get_calculator
from kpis.history import version_of
from kpis.models import KpiDefinition, Observation
from kpis.permissions import may_read_history
from scoring.services import day_bounds

from ..charts import line_chart, value_range
from ..formatting import DIMENSION_LABELS, UNIT_LABELS, band_of, format_number, format_score, format_value
from ..scopes import Scope, snapshot_on
from . import TREND_DAYS

# A KPI page lists at most this many observations of one day.
OBSERVATIONS_SHOWN = 500


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
    snapshot = snapshot_on(scope, day)
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
    # What each day was scored against (its snapshot's thresholds); a day without a value, what the schedule sets.
    targets, criticals = zip(*(
        (data["target"], data["critical"]) if data else definition.thresholds_on(each_day) for each_day, data in trend
    )) if trend else ((), ())
    low, high = value_range([*values, *targets, *criticals])
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
            references=[("target", "target", list(targets)), ("critical", "critical", list(criticals))],
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
        "schedule": _schedule(definition),
        "grain": grain,
        "evidence": _daily_evidence(scope, slug, snapshot.day) if grain and grain != INCIDENT else None,
    })
    return page


def _schedule(definition):
    """The definition's dated targets, formatted, each marked when it is the one in force today."""
    today = timezone.localdate()
    in_force = definition.thresholds_on(today)
    entries = [
        {"from": entry["from"], "target": format_value(entry["target"], definition.units),
         "critical": format_value(entry.get("critical", definition.critical_threshold), definition.units),
         "future": entry["from"] > f"{today:%Y-%m-%d}"}
        for entry in definition.target_schedule
    ]
    return {"entries": entries, "today": {"target": format_value(in_force[0], definition.units),
                                          "critical": format_value(in_force[1], definition.units)}}


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
