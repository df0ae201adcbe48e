"""
Writes to incident data: alert correlation (what it does, when and in which spans; the SQL is incidents.correlation)
and change-controlled correlation configs.
"""
import datetime
import logging

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from companyos.change_control import apply_changes, require_reason, save_with_history
from tenancy.models import Company

from . import correlation
from .models import Alert, CorrelationConfig

logger = logging.getLogger(__name__)

# A backlog of stored alerts is correlated in spans of at least a day and about CORRELATION_CHUNK_ALERTS alerts, so
# that each transaction (and each sort) stays bounded even for millions of alerts while a big backlog takes few
# statements; correlating in steps gives the same incidents as correlating at once.
CORRELATION_CHUNK = datetime.timedelta(days=1)
CORRELATION_CHUNK_ALERTS = 100_000

def correlation_config_for(company):
    """The company's correlation config, or the defaults (unsaved) when it has none."""
    try:
        return company.correlation_config
    except CorrelationConfig.DoesNotExist:
        return CorrelationConfig(company=company)


def correlate_alerts(*, company=None, until=None):
    """
    Group every uncorrelated alert issued before `until` (default: now) into incidents; return how many
    incidents were created. Without `company` every company with `auto_correlate` on is correlated. Alerts that
    arrive through ingestion.ingest_alerts are stored already correlated (store_correlated_alerts, by the same
    rules); this correlates what is stored without: bulk loads, companies that turned auto_correlate on later,
    and, nightly, whatever is left (correlate_pending).

    Alerts have the same key when the fields of the company's aggregation key (default asset|signature)
    are equal. Grouping is a session window: an alert joins the group of the previous alert with the same
    key when it was issued at most `time_window_minutes` after it (exactly the window still joins); a longer
    gap starts a new group. A group that continues an incident created by correlation (any of its alerts
    is already in one) joins that incident; any other group creates one: external_id "alert-<first alert
    id>", title "<signature> on <asset>", severity of its most severe alert, detected at its first alert,
    the first alert's service, status open and `correlation_key` set to the key value. An incident joined
    by more severe alerts is raised to their severity. An incident made or joined whose alerts have all ended
    (alerts that resolved before they were correlated) is resolved at the last end (resolve_ended_incidents).

    Late alerts: the result is the grouping that correlating all the alerts at once gives, whatever batches
    they came in and in whatever order within the window, by two rules for incidents made by correlation:
    - An alert issued before an incident's first alert moves the incident's detection to it, and the
      incident's title and service become that alert's (its external_id keeps the alert that made it).
    - A group that joins several incidents (a late alert bridged them) continues the one of its earliest
      alert; each later one is merged into it: its alerts move there, the survivor takes its severity if
      higher, and it is kept with `merged_into` set (never deleted), left out of incident lists and KPIs
      (Incident.objects; Incident.all_objects has it). Only an incident nobody has worked on merges: still
      open, never acknowledged or resolved, no source event, no runbook or automation, no phase, milestone,
      survey response or runbook execution recorded against it, and made with the current aggregation key.
      Any other keeps its alerts and its record; the alerts bridging it join the earlier incident. That case
      alone (and a survivor already resolved, which later alerts never reopen) can differ from correlating
      at once.

    Deterministic and idempotent: re-running creates nothing, and correlating day by day gives the same
    incidents as correlating everything at once.
    """
    until = until or timezone.now()
    if company is not None:
        companies = [company]
    else:
        companies = Company.objects.filter(
            id__in=Alert.objects.filter(incident__isnull=True, issued_at__lt=until).values("company_id")
        ).exclude(correlation_config__auto_correlate=False)
    return sum(_correlate_company(company, until) for company in companies)


def correlate_pending(*, until=None):
    """
    The nightly check: alerts issued before `until` are correlated as they arrive, so none should be pending.
    Correlate those that are (alerts of bulk paths such as the demo, a queued correlation that failed) like
    correlate_alerts without a company, and report what was found: {"pending_alerts", "incidents_created",
    "left_to_command": {company slug: alerts}} -- the alerts of companies with auto_correlate off, left to
    `manage.py correlate_alerts --company`.
    """
    until = until or timezone.now()
    pending = Alert.objects.filter(incident__isnull=True, issued_at__lt=until).order_by()
    manual = pending.filter(company__correlation_config__auto_correlate=False)
    left_to_command = dict(
        manual.values("company__slug").annotate(alerts=Count("id")).values_list("company__slug", "alerts")
    )
    pending_alerts = pending.count()
    created = correlate_alerts(until=until)
    if pending_alerts > sum(left_to_command.values()):
        logger.warning(
            "Correlation found %d alerts pending before %s and made %d incidents of them.",
            pending_alerts - sum(left_to_command.values()), until.isoformat(), created,
        )
    return {"pending_alerts": pending_alerts, "incidents_created": created, "left_to_command": left_to_command}


def lock_for_correlation(company_id):
    """
    Lock the company's row until the transaction ends and return the company: serialises correlation runs and
    the storing of its alerts. A no-op on SQLite, whose single writer serialises them anyway.
    """
    return Company.objects.select_for_update().get(pk=company_id)


def store_correlated_alerts(company, alerts):
    """
    Store `alerts` (unsaved alerts of `company`, known to be new) each with the incident it belongs to, grouped
    as correlate_alerts groups them, and return how many incidents were created. Each alert row is written once,
    with its link: the alerts take ids reserved up front, wait in a temporary table while they are grouped with
    the stored alerts around them (stored alerts still uncorrelated there are correlated with them), and are
    inserted with their incident. Call inside a transaction holding lock_for_correlation.
    """
    config = correlation_config_for(company)
    window = datetime.timedelta(minutes=config.time_window_minutes)
    for alert, alert_id in zip(alerts, correlation.reserve_alert_ids(len(alerts))):
        alert.pk = alert_id
    waiting = sorted(alerts, key=lambda alert: (alert.issued_at, alert.pk))
    created = 0
    while waiting:
        # A batch of alerts arrives within minutes; one sent long after they were issued is taken a day at a time.
        first = waiting[0].issued_at
        span = [alert for alert in waiting if alert.issued_at < first + CORRELATION_CHUNK]
        waiting = waiting[len(span):]
        correlation.stage_alerts(span)
        created += correlation.correlate_span(
            company, config, since=first - window, until=span[-1].issued_at + correlation.TIME_RESOLUTION, staged=True
        )
    return created


def _correlate_company(company, until):
    config = correlation_config_for(company)
    window = datetime.timedelta(minutes=config.time_window_minutes)
    created = 0
    while True:
        uncorrelated = Alert.objects.filter(company=company, incident__isnull=True, issued_at__lt=until).order_by("issued_at")
        first_uncorrelated = uncorrelated.values_list("issued_at", flat=True).first()
        if first_uncorrelated is None:
            return created
        # A big backlog goes in spans of about CORRELATION_CHUNK_ALERTS alerts, each at least a day long.
        chunk_end = uncorrelated.filter(issued_at__gte=first_uncorrelated).values_list("issued_at", flat=True)[
            CORRELATION_CHUNK_ALERTS:CORRELATION_CHUNK_ALERTS + 1
        ].first()
        span_end = max(chunk_end or until, first_uncorrelated + CORRELATION_CHUNK)
        with transaction.atomic():
            lock_for_correlation(company.pk)
            created += correlation.correlate_span(company, config, since=first_uncorrelated - window, until=min(span_end, until))


@transaction.atomic
def create_correlation_config(company, *, actor, reason, **fields):
    """Give `company` a correlation config; its first history row carries `actor` and `reason`."""
    return save_with_history(CorrelationConfig(company=company, **fields), actor=actor, reason=reason)


@transaction.atomic
def change_correlation_config(config, *, actor, reason, **fields):
    """
    Apply `fields` to `config` and record one history row with who and why.

    Refuses a missing reason, an unknown or non-editable field (the company cannot move) or an invalid
    value, naming the field; nothing is written then. A call that changes nothing writes no history.
    """
    require_reason(reason)
    editable = {"aggregation_key", "time_window_minutes", "auto_correlate"}
    unknown = sorted(set(fields) - editable)
    if unknown:
        raise ValidationError({name: f"'{name}' is not an editable field of a correlation config." for name in unknown})
    return apply_changes(config, fields, actor=actor, reason=reason)
