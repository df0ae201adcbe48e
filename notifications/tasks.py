"""
One task per delivery, queued after the event commits (notifications.sending.deliver does the work). A delivery
that failed for now (the receiver unreachable, a 5xx or 429) or is held back by its channel's rate limit is queued
again for when its next attempt is due: exponential backoff for failures (2, 4, 8 ... seconds, at most 10 minutes
apart, given up after sending.MAX_ATTEMPTS), the next token for the rate limit. `start_pending_deliveries` (beat)
queues again what has been due for LOST_AFTER: a task lost with its broker, or one never queued in eager mode
(`make run`), where nothing waits.
"""
import datetime

from celery import shared_task
from django.db import InterfaceError, OperationalError
from django.db.models import Q
from django.utils import timezone

from . import sending
from .choices import DeliveryState
from .models import Delivery

# A delivery due this long ago has lost the task that should have sent it: queue it again.
LOST_AFTER = datetime.timedelta(minutes=5)


@shared_task(
    bind=True,
    name="notifications.tasks.deliver_notification",
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=True,
    max_retries=5,
)
def deliver_notification(self, delivery_id):
    """Send one delivery; returns its state."""
    outcome = sending.deliver(delivery_id)
    if outcome.wait_seconds and not self.request.is_eager:
        # A new message, not a retry: the attempts are counted on the delivery, not by Celery.
        deliver_notification.apply_async((delivery_id,), countdown=outcome.wait_seconds)
    return outcome.state


@shared_task(name="notifications.tasks.start_pending_deliveries")
def start_pending_deliveries():
    """Beat entry point: queue the deliveries whose next attempt is overdue (its task lost, or never queued)."""
    now = timezone.now()
    due = Delivery.objects.filter(state__in=[DeliveryState.PENDING, DeliveryState.FAILED]).filter(
        Q(next_attempt_at__lt=now - LOST_AFTER) | Q(next_attempt_at__isnull=True, created_at__lt=now - LOST_AFTER)
    )
    ids = list(due.values_list("pk", flat=True))
    for delivery_id in ids:
        deliver_notification.delay(delivery_id)
    return len(ids)
