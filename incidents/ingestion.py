"""
Writes of incident data arriving from outside (the API, webhooks). Each is idempotent: sending the same
thing twice leaves one row, so a data source may retry freely.
"""
from dataclasses import dataclass

from django.db import IntegrityError, transaction

from . import tasks
from .models import Alert, CorrelationConfig, Incident, Milestone, PhaseTransition, RunbookExecution, SurveyResponse


@dataclass(frozen=True)
class IngestResult:
    received: int
    created: int


@transaction.atomic
def ingest_alerts(alerts):
    """
    Store `alerts` (unsaved Alert instances). An alert whose (company, source, external_id) is already
    stored is skipped, so a re-sent batch creates nothing new. All or nothing; once committed, the new alerts
    are grouped into incidents (queue_correlation).
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
    queue_correlation({alert.company_id for alert in new_alerts})
    return IngestResult(received=len(alerts), created=len(new_alerts))


def queue_correlation(company_ids):
    """
    Once the current transaction commits, correlate the alerts of each of the companies that has auto_correlate
    on: one task per company (run at once where tasks are eager, by a worker within seconds otherwise), which
    the company's row lock serialises with any other run. The others are left to `manage.py correlate_alerts`.
    """
    manual = set(
        CorrelationConfig.objects.filter(company_id__in=company_ids, auto_correlate=False).values_list("company_id", flat=True)
    )
    for company_id in sorted(set(company_ids) - manual):
        # Robust: the alerts are stored either way; a broker that cannot take the task leaves them to the nightly check.
        transaction.on_commit(lambda company_id=company_id: tasks.correlate_alerts.delay(company_id), robust=True)


def _upsert(model, lookup, fields):
    """
    Create or update the one row of `model` matching `lookup`, validated before anything is written.
    Returns (row, created). A concurrent create of the same key is caught by the unique constraint and
    retried once as an update.
    """
    for attempt in range(2):
        try:
            with transaction.atomic():
                # The base manager: an incident merged into another is still the row its external_id names.
                row = model._base_manager.select_for_update().filter(**lookup).first()
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
