"""
PagerDuty v3 webhooks: incidents and their phase transitions, which mttr, mtta and the P1 count are computed from.

One PagerDuty account is one `connectors.Integration` (kind pagerduty) of one company. Of the events a v3
webhook subscription sends, four are read; any other (incident.annotated, service.*, pagey.ping, ...) is
kept and ignored.

- The incident is `pagerduty:<incident id>` of the integration's company, detected at its `created_at`
  (entering the `alert` phase then). Its service is the one a `connectors.ServiceLink` maps the PagerDuty
  service id to; an incident of an unlinked PagerDuty service is kept without a service, so it still
  counts for the company's mttr, mtta and P1 count.
- `incident.acknowledged`: acknowledged at the event's `occurred_at`, entering `gather` (mtta ends there).
- `incident.resolved`: resolved at `occurred_at`, entering `resolved` (mttr ends there).
- Severity: the priority's name P1-P4 as is, P5 as P4; without a priority (or one named otherwise) the
  urgency: high as P2, low as P4. `incident.priority_updated` changes it.

Every event carries the whole incident as it was when the event occurred, so any of them creates a missing
incident: events may arrive in any order (a retried delivery overtakes the next one). Times are merged, not
replaced: each phase keeps the earliest time any event gave it, and the resolution is never before the
detection. The title, severity and service come from the latest event that occurred; the incident's
`source_event` is that event, and every event lists what it wrote in `SourceEvent.produced`.
"""
import datetime
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils.dateparse import parse_datetime

from connectors.choices import EventSource
from connectors.models import Integration, ServiceLink, SourceEvent
from connectors.services import Ignored, receive

from . import ingestion
from .choices import IncidentStatus, Phase, Severity
from .models import Incident

TRIGGERED = "incident.triggered"
ACKNOWLEDGED = "incident.acknowledged"
PRIORITY_UPDATED = "incident.priority_updated"
RESOLVED = "incident.resolved"
READ_EVENT_TYPES = (TRIGGERED, ACKNOWLEDGED, PRIORITY_UPDATED, RESOLVED)

PRIORITY_SEVERITY = {
    "P1": Severity.P1,
    "P2": Severity.P2,
    "P3": Severity.P3,
    "P4": Severity.P4,
    "P5": Severity.P4,
}
URGENCY_SEVERITY = {"high": Severity.P2, "low": Severity.P4}

EXTERNAL_ID_PREFIX = "pagerduty:"
TITLE_LENGTH = Incident._meta.get_field("title").max_length
DELIVERY_ID_LENGTH = SourceEvent._meta.get_field("delivery_id").max_length


@dataclass(frozen=True)
class IncidentEvent:
    """What one read event says about its incident."""

    event_type: str
    occurred_at: datetime.datetime
    incident_id: str
    created_at: datetime.datetime
    title: str
    severity: str
    service_id: str  # PagerDuty's service id; "" when the incident names none


def deliver(integration, payload):
    """Receive one v3 webhook payload sent to `integration`, once per event id (the webhook and the demo call this)."""
    event = payload.get("event")
    event_id = event.get("id") if isinstance(event, dict) else None
    if not isinstance(event_id, str) or not event_id.strip():
        raise ValidationError({"event.id": "A PagerDuty v3 webhook payload names its event's id."})
    if len(event_id) > DELIVERY_ID_LENGTH:
        raise ValidationError({"event.id": f"An event id has at most {DELIVERY_ID_LENGTH} characters."})
    return receive(
        EventSource.PAGERDUTY,
        event_id,
        apply_event,
        event_type=str(event.get("event_type") or "")[:100],
        payload=payload,
        integration=integration,
        company=integration.company,
    )


def _object(container, key, path):
    value = container.get(key)
    if not isinstance(value, dict):
        raise ValidationError({path: "An object is required."})
    return value


def _text(container, key, path):
    value = container.get(key)
    if not isinstance(value, str) or not value.strip():
        raise ValidationError({path: "A non-empty string is required."})
    return value


def _time(container, key, path):
    value = container.get(key)
    try:
        parsed = parse_datetime(value) if isinstance(value, str) else None
    except ValueError:  # well formed but no such time, e.g. month 13
        parsed = None
    if parsed is None or parsed.tzinfo is None:
        raise ValidationError({path: f"'{value}' is not an ISO 8601 time with a time zone."})
    return parsed


def severity_of(data):
    """The severity of a PagerDuty incident (its `event.data`): from its priority, else from its urgency."""
    priority = data.get("priority")
    name = priority.get("summary") if isinstance(priority, dict) else None
    if isinstance(name, str) and name in PRIORITY_SEVERITY:
        return PRIORITY_SEVERITY[name]
    urgency = data.get("urgency")
    if isinstance(urgency, str) and urgency in URGENCY_SEVERITY:
        return URGENCY_SEVERITY[urgency]
    raise ValidationError(
        {"event.data.urgency": f"'{urgency}' is neither high nor low, and the incident has no priority P1-P5."}
    )


def parse_event(payload):
    """The IncidentEvent of a v3 webhook payload; Ignored for an event type not read."""
    event = _object(payload, "event", "event")
    event_type = event.get("event_type")
    if event_type not in READ_EVENT_TYPES:
        raise Ignored(f"PagerDuty event type '{event_type}' is not read; only {', '.join(READ_EVENT_TYPES)} are.")
    data = _object(event, "data", "event.data")
    if data.get("type") != "incident":
        raise ValidationError({"event.data.type": f"A {event_type} event's data is an incident, not '{data.get('type')}'."})
    service = data.get("service")
    service_id = service.get("id") if isinstance(service, dict) else None
    return IncidentEvent(
        event_type=event_type,
        occurred_at=_time(event, "occurred_at", "event.occurred_at"),
        incident_id=_text(data, "id", "event.data.id"),
        created_at=_time(data, "created_at", "event.data.created_at"),
        title=_text(data, "title", "event.data.title")[:TITLE_LENGTH],
        severity=severity_of(data),
        service_id=service_id if isinstance(service_id, str) else "",
    )


def _earliest(known, candidate):
    return candidate if known is None else min(known, candidate)


def _occurred_at(source_event):
    """When the event a stored SourceEvent holds occurred (it was validated when applied)."""
    return parse_datetime(source_event.payload["event"]["occurred_at"])


def _status(acknowledged_at, resolved_at):
    if resolved_at is not None:
        return IncidentStatus.RESOLVED
    if acknowledged_at is not None:
        return IncidentStatus.ACKNOWLEDGED
    return IncidentStatus.OPEN


def _incident_fields(current, parsed, source_event):
    """The incident's fields once `parsed` is merged into `current` (None for a new incident)."""
    detected_at = parsed.created_at if current is None else min(current.detected_at, parsed.created_at)
    acknowledged_at = current.acknowledged_at if current else None
    resolved_at = current.resolved_at if current else None
    if parsed.event_type == ACKNOWLEDGED:
        acknowledged_at = _earliest(acknowledged_at, parsed.occurred_at)
    if parsed.event_type == RESOLVED:
        resolved_at = _earliest(resolved_at, max(parsed.occurred_at, detected_at))
    fields = {
        "detected_at": detected_at,
        "acknowledged_at": acknowledged_at,
        "resolved_at": resolved_at,
        "status": _status(acknowledged_at, resolved_at),
    }
    latest = current is None or current.source_event is None or parsed.occurred_at >= _occurred_at(current.source_event)
    if latest:
        link = ServiceLink.objects.filter(integration=source_event.integration, external_id=parsed.service_id).first()
        fields.update(
            title=parsed.title,
            severity=parsed.severity,
            service_id=link.service_id if link else None,
            source_event=source_event,
        )
    return fields


def apply_event(source_event):
    """The `receive` handler of a PagerDuty SourceEvent: create or update its incident and phases."""
    parsed = parse_event(source_event.payload)
    integration = source_event.integration
    # One delivery of an account at a time, so two events of a new incident cannot both create it from
    # nothing. NO KEY UPDATE does not wait for concurrent inserts of events that reference the integration.
    Integration.objects.select_for_update(no_key=True).filter(pk=integration.pk).first()
    external_id = f"{EXTERNAL_ID_PREFIX}{parsed.incident_id}"
    current = (
        Incident.objects.select_related("source_event")
        .filter(company=integration.company, external_id=external_id)
        .first()
    )
    incident, _ = ingestion.record_incident(
        integration.company, external_id, **_incident_fields(current, parsed, source_event)
    )
    timeline = {Phase.ALERT: incident.detected_at, Phase.GATHER: incident.acknowledged_at, Phase.RESOLVED: incident.resolved_at}
    known = dict(incident.phases.values_list("phase", "entered_at"))
    written = []
    for phase, entered_at in timeline.items():
        # A phase keeps the earliest time it is known to have been entered.
        if entered_at is not None and (phase not in known or entered_at < known[phase]):
            transition, _ = ingestion.record_phase(incident, phase=phase, entered_at=entered_at)
            written.append(transition.pk)
    produced = {"incidents.incident": [incident.pk]}
    if written:
        produced["incidents.phasetransition"] = written
    return produced
