"""Celery tasks of the scoring app. Thin: they take ids and ISO dates and call the services."""
import datetime

from celery import shared_task
from django.utils import timezone

from companyos.celery import DATABASE_TASK_OPTIONS
from tenancy.models import Company

from . import breaches, retention, services


@shared_task(name="scoring.tasks.compute_day_snapshots", **DATABASE_TASK_OPTIONS)
def compute_day_snapshots(day_iso, company_id=None):
    """
    Compute (or recompute) a day's score snapshots, then evaluate that day's breaches. Idempotent.

    Without a company, fans out one task per company so each stays small.
    """
    if company_id is None:
        for company_id in Company.objects.order_by("id").values_list("id", flat=True):
            compute_day_snapshots.delay(day_iso, company_id)
        return
    day = datetime.date.fromisoformat(day_iso)
    company = Company.objects.get(pk=company_id)
    services.compute_snapshots(day, company=company)
    breaches.evaluate_breaches(day, company=company)


@shared_task(name="scoring.tasks.start_breach_evaluation", **DATABASE_TASK_OPTIONS)
def start_breach_evaluation():
    """Evaluate today's breaches so far for every company (the beat runs it every 15 minutes). Idempotent."""
    today = timezone.now().date().isoformat()
    for company_id in Company.objects.order_by("id").values_list("id", flat=True):
        evaluate_day_breaches.delay(today, company_id)


@shared_task(name="scoring.tasks.evaluate_day_breaches", **DATABASE_TASK_OPTIONS)
def evaluate_day_breaches(day_iso, company_id):
    """Open and close the breaches of one company on one day. Idempotent."""
    breaches.evaluate_breaches(datetime.date.fromisoformat(day_iso), company=Company.objects.get(pk=company_id))


@shared_task(name="scoring.tasks.start_retention", **DATABASE_TASK_OPTIONS)
def start_retention():
    """Daily: roll raw observations up into hourly/daily buckets, then prune what is past its raw retention."""
    retention.apply_retention(now=timezone.now())
