"""Celery tasks of the reports app. Thin: they take ids and ISO dates and call the services."""
import datetime

from celery import shared_task
from django.contrib.auth import get_user_model
from django.utils import timezone

from companyos.celery import DATABASE_TASK_OPTIONS
from tenancy.models import Company

from . import services
from .periods import month_before, month_of, period_between


@shared_task(name="reports.tasks.start_monthly_reports", **DATABASE_TASK_OPTIONS)
def start_monthly_reports():
    """On the 1st (beat): last month's report of every company, one task per company. Idempotent."""
    last_month = month_before(timezone.now().date())
    for company_id in Company.objects.order_by("id").values_list("id", flat=True):
        build_monthly_report.delay(company_id, last_month.start.isoformat())


@shared_task(name="reports.tasks.build_monthly_report", **DATABASE_TASK_OPTIONS)
def build_monthly_report(company_id, month_start_iso):
    """One company's report of the month starting on that day; a re-run keeps the stored one. Idempotent."""
    month = month_of(datetime.date.fromisoformat(month_start_iso))
    services.monthly_report(Company.objects.get(pk=company_id), month)


@shared_task(name="reports.tasks.build_on_demand_report", **DATABASE_TASK_OPTIONS)
def build_on_demand_report(company_id, start_iso, end_iso, user_id):
    """A report someone asked for, over their period (checked when asked)."""
    period = period_between(datetime.date.fromisoformat(start_iso), datetime.date.fromisoformat(end_iso))
    user = get_user_model().objects.get(pk=user_id)
    services.on_demand_report(Company.objects.get(pk=company_id), period, requested_by=user)
