"""An incident with everything its KPIs are computed from, and the incidents of a scope between two days."""
from django.db.models import Count
from django.http import Http404

from incidents.models import Incident
from tenancy.access import in_visible_companies
from kpis.models import Observation
from scoring.services import day_bounds

from ..formatting import format_value
from ..scopes import Scope, day_from

# An incident page lists at most this many of its alerts (a storm can correlate thousands).
ALERTS_SHOWN = 200
INCIDENTS_SHOWN = 200


def incident_detail(user, incident_id):
    """
    An incident with everything KPIs are computed from: alerts, phases, milestones, surveys, runbook runs. One
    merged into another is shown too (links to it stay valid), naming the incident its alerts went into.
    """
    incidents = in_visible_companies(Incident.all_objects.all(), user)
    incident = incidents.select_related("company", "service__domain", "merged_into").filter(pk=incident_id).first()
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
    since, until = day_from(params, "since", required=True), day_from(params, "until", required=True)
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
