"""
Keeping the stored daily totals of the methodology proof (kpis.daily_totals) up to date: after each write that
announces its days, and every night for the recent days.
"""
import datetime

from celery import shared_task

from companyos.celery import DATABASE_TASK_OPTIONS
from kpis import daily_totals


@shared_task(name="kpis.tasks.refresh_daily_totals", **DATABASE_TASK_OPTIONS)
def refresh_daily_totals(day_iso):
    """Refresh every company's stored daily totals of the recent days ending with `day_iso` (an ISO date)."""
    daily_totals.refresh_recent_days(datetime.date.fromisoformat(day_iso))
    return day_iso


@shared_task(name="kpis.tasks.refresh_changed_days", **DATABASE_TASK_OPTIONS)
def refresh_changed_days(company_id, day_isos):
    """Refresh the company's stored totals of `day_isos` (ISO dates) and of the days they link to."""
    daily_totals.refresh([datetime.date.fromisoformat(day) for day in day_isos], [company_id])
    return sorted(day_isos)


def on_incident_data_changed(sender, company_id, days, **kwargs):
    """
    Receiver of incident_data_changed (after the write committed): unstores the changed days that are stored, so
    periods read them from the rows at once, and queues their refresh, so the write's request (a webhook, the
    API) does not wait for it. Today's days are never stored: a write of today queues nothing.
    """
    changed = daily_totals.unstore(days, company_id)
    if changed:
        refresh_changed_days.delay(company_id, [day.isoformat() for day in changed])
