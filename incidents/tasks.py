"""Celery tasks of the incidents app: thin wrappers that take ids and dates and call the services."""
from celery import shared_task
from django.utils.dateparse import parse_datetime

from companyos.celery import DATABASE_TASK_OPTIONS

from . import services
from .models import Company


@shared_task(name="incidents.tasks.correlate_alerts", **DATABASE_TASK_OPTIONS)
def correlate_alerts(company_id=None, until=None):
    """Correlate uncorrelated alerts of one company (or all) issued before `until` (ISO datetime, default now)."""
    company = Company.objects.get(pk=company_id) if company_id is not None else None
    return services.correlate_alerts(company=company, until=parse_datetime(until) if until else None)


@shared_task(name="incidents.tasks.correlate_pending_alerts", **DATABASE_TASK_OPTIONS)
def correlate_pending_alerts(until=None):
    """The nightly check that no alert issued before `until` (ISO datetime) awaits correlation; what it found."""
    return services.correlate_pending(until=parse_datetime(until) if until else None)
