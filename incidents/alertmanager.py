"""
Prometheus Alertmanager's webhook (version 4): the alerts of a notification, stored per company, every delivery
kept as a SourceEvent with its outcome.

- Company: each alert's `company` label (its own or the common one). `?company=` names the company of alerts
  without one; a label naming another company is refused, naming both. A notification grouping several
  companies' alerts (a route's `group_by` without `company`) is split: one SourceEvent and one transaction per
  company. Alerts with neither a label nor `?company=` are kept as one failed SourceEvent saying so, and the
  rest are stored: Alertmanager drops a notification answered 4xx.
- Refused (400) and kept as a failed SourceEvent: a payload of the wrong shape, a version other than 4, a
  company the caller may not write into, a label contradicting `?company=`.
- An alert: signature = `alertname`, severity from the `severity` label, a `service` label naming one of the
  company's services links it; asset = the first of the labels `asset`, `instance`, `pod`, `node`, `host`,
  `service`, `job`, else the company. The portal's own rules alert on a KPI (a `kpi` label) of a company or
  service, and their `instance` is the portal itself: their asset is the `service`, else the KPI.
- Its external id is its fingerprint and start, so the firing and resolved notifications of one alert, and any
  re-send, store it once. A resolved alert records `endsAt` as its `ended_at` (never before its start); an
  incident whose alerts have all ended is resolved at the last end (incidents.correlation.resolve_ended_incidents).
- A delivery's ID is the SHA-256 of its body and `?company=`: the same notification again changes nothing.
"""
import datetime
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils.dateparse import parse_datetime

from companyos.events import announce, incident_data_changed, utc_days
from connectors.choices import EventSource
from connectors.services import receive, upload_delivery_id
from tenancy.access import writable_companies, writable_company

from . import ingestion
from .choices import AlertSeverity
from .models import Alert, Incident, Service
from .correlation import ended_incidents, resolve_ended_incidents

SOURCE = "alertmanager"
RESOLVED = "resolved"

# Alertmanager severity labels as our alert severities; anything else is informational.
SEVERITY = {
    "critical": AlertSeverity.CRITICAL,
    "page": AlertSeverity.CRITICAL,
    "high": AlertSeverity.HIGH,
    "error": AlertSeverity.HIGH,
    "warning": AlertSeverity.WARNING,
}

ASSET_LABELS = ("asset", "instance", "pod", "node", "host", "service", "job")
KPI_ASSET_LABELS = ("asset", "service", "kpi")


@dataclass(frozen=True)
class Delivery:
    """What a delivery did: alerts received, newly stored, newly ended, kept unassigned; its source events."""

    received: int
    created: int
    ended: int
    unassigned: int
    source_events: list


def keep_refused(body, *, user, company_slug, reason):
    """
    Keep a delivery refused before it was read (not JSON, or of the wrong shape; `reason` says how) as a failed
    SourceEvent, its body as text: whatever it holds is kept, as PostgreSQL would refuse a NUL in JSON or text.
    """
    raw = body.decode(errors="replace").replace("\x00", "\ufffd")
    try:
        _receive(upload_delivery_id(body, company_slug), None, user=user, company=None, raw=raw,
                 handler=_failing(ValidationError({"body": reason})))
    except ValidationError:
        pass  # kept; the caller answers with its own refusal


def deliver(body, payload, *, user, company_slug=""):
    """
    Receive one webhook delivery (`body` as sent, `payload` its parsed JSON object, already type-checked) from
    `user`, with `?company=` as `company_slug`. Raises ValidationError (kept as a failed event) when refused.
    """
    delivery_id = upload_delivery_id(body, company_slug)
    try:
        parts, unassigned = _split(payload, user, company_slug)
    except ValidationError as error:
        _receive(delivery_id, payload, user=user, company=None, handler=_failing(error))
        raise
    outcomes = []
    for company, indexes in parts:
        part = {**payload, "alerts": [payload["alerts"][index] for index in indexes]}
        received = _receive(
            f"{delivery_id}:{company.slug}", part, user=user, company=company,
            handler=lambda event, company=company: _store(company, event.payload),
        )
        outcomes.append(received)
    if unassigned:
        part = {**payload, "alerts": [payload["alerts"][index] for index in unassigned]}
        reason = ValidationError({
            "company": f"{len(unassigned)} alert(s) have no 'company' label and the URL has no ?company=: "
            "add the label in Prometheus or ?company=<slug> to the receiver's URL."
        })
        try:
            _receive(f"{delivery_id}:unassigned", part, user=user, company=None, handler=_failing(reason))
        except ValidationError:
            pass  # kept as failed: the other alerts are stored, and the answer counts these
    events = [received.event for received in outcomes]
    return Delivery(
        received=len(payload["alerts"]),
        created=sum(received.event.produced.get("created", 0) for received in outcomes if received.created),
        ended=sum(received.event.produced.get("ended", 0) for received in outcomes if received.created),
        unassigned=len(unassigned),
        source_events=[event.pk for event in events],
    )


def _receive(delivery_id, payload, *, user, company, handler, raw=""):
    # The notification's status (firing or resolved) as the event type, as Alertmanager names it.
    status = payload.get("status") if isinstance(payload, dict) else None
    return receive(
        EventSource.ALERTMANAGER, delivery_id, handler, event_type=status[:100] if isinstance(status, str) else "",
        payload=payload, raw=raw, company=company, user=user,
    )


def _failing(error):
    """A handler that refuses the payload with `error`: receive keeps the event as failed with its message."""
    def handler(event):
        raise error
    return handler


def _split(payload, user, company_slug):
    """[(company, [alert index, ...])] in first-seen order, and the indexes of alerts with no company."""
    if str(payload.get("version")) != "4":
        raise ValidationError({"version": f"Only Alertmanager webhook version 4 is accepted, not '{payload.get('version')}'."})
    named = writable_company(user, company_slug) if company_slug else None
    common = payload.get("commonLabels") or {}
    slugs = [(alert.get("labels") or {}).get("company") or common.get("company") or "" for alert in payload["alerts"]]
    for index, slug in enumerate(slugs):
        if named is not None and slug and slug != named.slug:
            raise ValidationError({
                f"alerts[{index}].labels.company": f"The label company=\"{slug}\" contradicts ?company={named.slug}; "
                "drop one or make them agree."
            })
    labelled = {slug for slug in slugs if slug}
    companies = {company.slug: company for company in writable_companies(user).filter(slug__in=labelled)}
    for index, slug in enumerate(slugs):
        if slug and slug not in companies:
            raise ValidationError({f"alerts[{index}].labels.company": f"No company has the slug '{slug}'."})
    parts, unassigned = {}, []
    for index, slug in enumerate(slugs):
        company = companies.get(slug) or named
        if company is None:
            unassigned.append(index)
        else:
            parts.setdefault(company.slug, (company, []))[1].append(index)
    return list(parts.values()), unassigned


def _store(company, payload):
    """The handler of one company's part: store its alerts, record their ends, resolve what they end."""
    alerts = alerts_of(payload, company)
    result = ingestion.ingest_alerts(alerts)
    ended = _record_ends(company, alerts)
    stored = Alert.objects.filter(company=company, source=SOURCE, external_id__in=[alert.external_id for alert in alerts])
    resolved = list(
        ended_incidents(Incident.objects.filter(pk__in=stored.exclude(incident=None).values("incident")))
        .values_list("pk", flat=True)
    )
    resolve_ended_incidents(Incident.objects.filter(pk__in=resolved))
    if resolved:
        days = utc_days(Incident.objects.filter(pk__in=resolved).values_list("resolved_at", flat=True))
        announce(incident_data_changed, sender=Incident, company_id=company.pk, days=days)
    return {
        "incidents.alert": sorted(stored.values_list("pk", flat=True)),
        "created": result.created,
        "ended": ended,
        "resolved incidents": resolved,
    }


def _record_ends(company, alerts):
    """Set the end of stored alerts that this delivery resolves; how many ended now."""
    ends = {alert.external_id: alert.ended_at for alert in alerts if alert.ended_at}
    if not ends:
        return 0
    rows = list(
        Alert.objects.filter(company=company, source=SOURCE, external_id__in=ends, ended_at=None)
        .only("pk", "external_id", "issued_at")
    )
    for row in rows:
        row.ended_at = max(ends[row.external_id], row.issued_at)
    Alert.objects.bulk_update(rows, ["ended_at"])
    return len(rows)


def _time(value, field):
    parsed = parse_datetime(value or "")
    if parsed is None:
        raise ValidationError({field: f"'{value}' is not an RFC 3339 time."})
    return parsed


def asset_of(labels, company):
    """What the alert is about, from its labels (see the module's docstring)."""
    names = KPI_ASSET_LABELS if labels.get("kpi") else ASSET_LABELS
    return next((labels[name] for name in names if labels.get(name)), company.slug)


def alerts_of(payload, company):
    """The alerts of a (type-checked) version 4 payload as unsaved Alert rows of `company`."""
    services = {service.slug: service for service in Service.objects.filter(domain__company=company)}
    common = payload.get("commonLabels") or {}
    alerts = []
    for index, raw in enumerate(payload["alerts"]):
        labels = {**common, **(raw.get("labels") or {})}
        if not labels.get("alertname"):
            raise ValidationError({f"alerts[{index}].labels.alertname": "Every alert needs an alertname label."})
        starts_at = _time(raw.get("startsAt"), f"alerts[{index}].startsAt")
        # A firing alert's endsAt is a guess (or 0001-01-01); only a resolved one's is its end.
        ends_at = _time(raw.get("endsAt"), f"alerts[{index}].endsAt") if raw.get("status") == RESOLVED else None
        asset = asset_of(labels, company)
        fingerprint = raw.get("fingerprint") or f"{labels['alertname']}:{asset}"
        alerts.append(
            Alert(
                company=company,
                service=services.get(labels.get("service", "")),
                asset=asset[:200],
                signature=labels["alertname"][:200],
                severity=SEVERITY.get(str(labels.get("severity", "")).lower(), AlertSeverity.INFO),
                issued_at=starts_at,
                ended_at=ends_at and max(ends_at, starts_at),
                source=SOURCE,
                external_id=f"{fingerprint}@{starts_at.astimezone(datetime.timezone.utc):%Y-%m-%dT%H:%M:%SZ}",
                payload={**raw, "groupKey": payload.get("groupKey"), "receiver": payload.get("receiver")},
            )
        )
    return alerts
