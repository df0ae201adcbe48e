"""The nightly refresh of the stored daily totals of the methodology proof (kpis.daily_totals)."""
import datetime

from celery import shared_task

from companyos.celery import DATABASE_TASK_OPTIONS
from kpis import daily_totals


@shared_task(name="kpis.tasks.refresh_daily_totals", **DATABASE_TASK_OPTIONS)
def refresh_daily_totals(day_iso):
    """Refresh every company's stored daily totals of the recent days ending with `day_iso` (an ISO date)."""
    daily_totals.refresh_recent_days(datetime.date.fromisoformat(day_iso))
    return day_iso
