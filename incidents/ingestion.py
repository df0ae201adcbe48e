"""
Writes of incident data arriving from outside (the API, webhooks). Each is idempotent: sending the same
thing twice leaves one row, so a data source may retry freely.
"""
from dataclasses import dataclass

from django.db import IntegrityError, transaction

from companyos.events import announce, incident_data_changed, utc_days

from . import services
from .models import Alert, CorrelationConfig, Incident, Milestone, PhaseTransition, RunbookExecution, SurveyResponse


@dataclass(frozen=True)
class IngestResult:
    received: int
    created: int


@transaction.atomic
def ingest_alerts(alerts):
    """
    Store `alerts` (unsaved Alert instances). An alert whose (company, source, external_id) is already
    stored is skipped, so a re-sent batch creates nothing new. All or nothing. The alerts of a company with
    auto_correlate on are stored with their incidents (services.store_correlated_alerts), under the company's row
    lock; the others are stored without, left to `manage.py correlate_alerts`.
    """
    by_company = {}
    for alert in alerts:
        by_company.setdefault(alert.company_id, []).append(alert)
    manual = set(
        CorrelationConfig.objects.filter(company_id__in=by_company, auto_correlate=False).values_list("company_id", flat=True)
    )
    created = 0
    # In company order, so that two batches naming the same companies lock them in the same order.
    for company_id in sorted(by_company):
        if company_id in manual:
            new_alerts = _new_alerts(company_id, by_company[company_id])
            # ignore_conflicts covers a concurrent sender of the same alert between the look-up and the insert.
            Alert.objects.bulk_create(new_alerts, ignore_conflicts=True)
            days = utc_days(alert.issued_at for alert in new_alerts)
            if days:
                announce(incident_data_changed, sender=Alert, company_id=company_id, days=days)
        else:
            # The lock comes first: no other batch of the company stores the alerts looked up as new meanwhile.
            company = services.lock_for_correlation(company_id)
            new_alerts = _new_alerts(company_id, by_company[company_id])
            services.store_correlated_alerts(company, new_alerts)
        created += len(new_alerts)
    return IngestResult(received=len(alerts), created=created)


def _new_alerts(company_id, alerts):
    """The alerts of `alerts` (all of company `company_id`) that are not stored yet, each external id once."""
    keyed = [alert.external_id for alert in alerts if alert.external_id]
    existing = set(
        Alert.objects.filter(company_id=company_id, external_id__in=keyed).values_list("source", "external_id")
    ) if keyed else set()
    seen = set()
    new_alerts = []
    for alert in alerts:
        key = (alert.source, alert.external_id)
        if alert.external_id and (key in existing or key in seen):
            continue
        seen.add(key)
        new_alerts.append(alert)
    return new_alerts


def _upsert(model, lookup, fields, dated_by=()):
    """
    Create or update the one row of `model` matching `lookup`, validated before anything is written.
    Returns (row, created). A concurrent create of the same key is caught by the unique constraint and
    retried once as an update. With `dated_by` (time fields), the UTC days of those times before and after the
    write are announced as changed (incident_data_changed): a resolution may move from one day to another.
    """
    for attempt in range(2):
        try:
            with transaction.atomic():
                # The base manager: an incident merged into another is still the row its external_id names.
                row = model._base_manager.select_for_update().filter(**lookup).first()
                created = row is None
                if created:
                    row = model(**lookup)
                before = [getattr(row, name) for name in dated_by]
                for name, value in fields.items():
                    setattr(row, name, value)
                row.full_clean(validate_unique=False)
                row.save()
                if dated_by:
                    days = utc_days([*before, *(getattr(row, name) for name in dated_by)])
                    announce(incident_data_changed, sender=model, company_id=row.company_id, days=days)
                return row, created
        except IntegrityError:
            if attempt:
                raise
    raise AssertionError("unreachable")


def record_incident(company, external_id, **fields):
    """Create or update the incident `external_id` of `company`. Returns (incident, created)."""
    return _upsert(Incident, {"company": company, "external_id": external_id}, fields, dated_by=("detected_at", "resolved_at"))


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
    return _upsert(RunbookExecution, {"company": company, "execution_id": execution_id}, fields, dated_by=("started_at",))
