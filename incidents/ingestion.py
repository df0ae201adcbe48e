"""
Writes of incident data arriving from outside (the API, webhooks). Each is idempotent: sending the same
thing twice leaves one row, so a data source may retry freely.
"""
import datetime
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.dateparse import parse_datetime

from .choices import AlertSeverity
from .models import Alert, Incident, Milestone, PhaseTransition, RunbookExecution, Service, SurveyResponse

ALERTMANAGER_SOURCE = "alertmanager"

# Alertmanager severity labels as our alert severities; anything else is informational.
ALERTMANAGER_SEVERITY = {
    "critical": AlertSeverity.CRITICAL,
    "page": AlertSeverity.CRITICAL,
    "high": AlertSeverity.HIGH,
    "error": AlertSeverity.HIGH,
    "warning": AlertSeverity.WARNING,
}


@dataclass(frozen=True)
class IngestResult:
    received: int
    created: int


@transaction.atomic
def ingest_alerts(alerts):
    """
    Store `alerts` (unsaved Alert instances). An alert whose (company, source, external_id) is already
    stored is skipped, so a re-sent batch creates nothing new. All or nothing.
    """
    keyed = [alert for alert in alerts if alert.external_id]
    existing = set()
    for company_id in {alert.company_id for alert in keyed}:
        ids = [alert.external_id for alert in keyed if alert.company_id == company_id]
        existing.update(
            (company_id, source, external_id)
            for source, external_id in Alert.objects.filter(company_id=company_id, external_id__in=ids).values_list(
                "source", "external_id"
            )
        )
    seen = set()
    new_alerts = []
    for alert in alerts:
        key = (alert.company_id, alert.source, alert.external_id)
        if alert.external_id and (key in existing or key in seen):
            continue
        seen.add(key)
        new_alerts.append(alert)
    # ignore_conflicts covers a concurrent sender of the same alert between the look-up and the insert.
    Alert.objects.bulk_create(new_alerts, ignore_conflicts=True)
    return IngestResult(received=len(alerts), created=len(new_alerts))


def _alertmanager_time(value, field):
    parsed = parse_datetime(value or "")
    if parsed is None:
        raise ValidationError({field: f"'{value}' is not an RFC 3339 time."})
    return parsed


def alerts_from_alertmanager(payload, company):
    """
    The alerts of an Alertmanager webhook (version 4) as unsaved Alert rows of `company`.

    asset = the `asset`, `instance`, `pod` or `job` label (the first present); signature = `alertname`;
    severity from the `severity` label; a `service` label naming one of the company's services links it.
    The external id is the alert's fingerprint and start, so the firing and later resolved notifications
    of one alert, and any re-send, store it once.
    """
    if str(payload.get("version")) != "4":
        raise ValidationError({"version": f"Only Alertmanager webhook version 4 is accepted, not '{payload.get('version')}'."})
    raw_alerts = payload.get("alerts")
    if not isinstance(raw_alerts, list):
        raise ValidationError({"alerts": "A list of alerts is required."})
    services = {service.slug: service for service in Service.objects.filter(domain__company=company)}
    common_labels = payload.get("commonLabels") or {}
    alerts = []
    for index, raw in enumerate(raw_alerts):
        labels = {**common_labels, **(raw.get("labels") or {})}
        if not labels.get("alertname"):
            raise ValidationError({f"alerts[{index}].labels.alertname": "Every alert needs an alertname label."})
        starts_at = _alertmanager_time(raw.get("startsAt"), f"alerts[{index}].startsAt")
        asset = next((labels[name] for name in ("asset", "instance", "pod", "job") if labels.get(name)), "unknown")
        fingerprint = raw.get("fingerprint") or f"{labels['alertname']}:{asset}"
        alerts.append(
            Alert(
                company=company,
                service=services.get(labels.get("service", "")),
                asset=asset[:200],
                signature=labels["alertname"][:200],
                severity=ALERTMANAGER_SEVERITY.get(str(labels.get("severity", "")).lower(), AlertSeverity.INFO),
                issued_at=starts_at,
                source=ALERTMANAGER_SOURCE,
                external_id=f"{fingerprint}@{starts_at.astimezone(datetime.timezone.utc):%Y-%m-%dT%H:%M:%SZ}",
                payload={**raw, "groupKey": payload.get("groupKey"), "receiver": payload.get("receiver")},
            )
        )
    return alerts


def _upsert(model, lookup, fields):
    """
    Create or update the one row of `model` matching `lookup`, validated before anything is written.
    Returns (row, created). A concurrent create of the same key is caught by the unique constraint and
    retried once as an update.
    """
    for attempt in range(2):
        try:
            with transaction.atomic():
                row = model.objects.select_for_update().filter(**lookup).first()
                created = row is None
                if created:
                    row = model(**lookup)
                for name, value in fields.items():
                    setattr(row, name, value)
                row.full_clean(validate_unique=False)
                row.save()
                return row, created
        except IntegrityError:
            if attempt:
                raise
    raise AssertionError("unreachable")


def record_incident(company, external_id, **fields):
    """Create or update the incident `external_id` of `company`. Returns (incident, created)."""
    return _upsert(Incident, {"company": company, "external_id": external_id}, fields)


def record_phase(incident, *, phase, entered_at):
    """The time `incident` entered `phase`; sending it again moves the time."""
    return _upsert(PhaseTransition, {"incident": incident, "phase": phase}, {"entered_at": entered_at})


def record_milestone(incident, *, name, committed_eta, delivered_at=None):
    return _upsert(
        Milestone, {"incident": incident, "name": name}, {"committed_eta": committed_eta, "delivered_at": delivered_at}
    )


def record_survey_response(incident, *, respondent, score, submitted_at):
    return _upsert(
        SurveyResponse, {"incident": incident, "respondent": respondent}, {"score": score, "submitted_at": submitted_at}
    )


def record_runbook_execution(company, *, execution_id, **fields):
    """
    Create or update the run `execution_id` of `company`. Returns (execution, created). Execution ids are unique
    within a company: another company's run with the same id is another run, left as it is.
    """
    return _upsert(RunbookExecution, {"company": company, "execution_id": execution_id}, fields)
