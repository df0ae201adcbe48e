"""The daily e-mail that reminds each owner of their definitions due for review."""
import datetime

from celery import shared_task
from django.contrib.auth import get_user_model
from django.utils import timezone

from kpis import services


@shared_task(name="kpis.tasks.start_overdue_review_reminders")
def start_overdue_review_reminders():
    """Beat entry point: one reminder task per owner with a definition due for review today."""
    today = timezone.localdate()
    for owner_id in services.owners_with_overdue_reviews(today):
        send_overdue_review_reminder.delay(owner_id, today.isoformat())


# SMTP and socket errors are OSErrors; the reminder record rolls back with them, so a retry sends once.
@shared_task(
    name="kpis.tasks.send_overdue_review_reminder",
    autoretry_for=(OSError,),
    retry_backoff=True,
    max_retries=5,
)
def send_overdue_review_reminder(owner_id, day):
    """E-mail one owner their definitions due for review on `day` (ISO date), unless already sent that day."""
    owner = get_user_model().objects.filter(pk=owner_id, is_active=True).first()
    if owner is not None:
        services.send_overdue_review_reminder(owner, datetime.date.fromisoformat(day))
