"""Sending: once per event and subscription, at most once successfully, within each channel's rate limit."""
import datetime

import pytest
from django.core.exceptions import ValidationError
from django.db.models import F
from django.test import override_settings

from kpis import roles
from notifications import sending
from notifications.addresses import check_destination
from notifications.choices import ChannelKind, DeliveryState, EventKind
from notifications.models import Channel, Delivery
from notifications.services import record_event
from notifications.tasks import deliver_notification, start_pending_deliveries
from tests.helpers import member_of, stored
from tests.notifications.factories import ChannelFactory, SubscriptionFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def nightly_subscriber(receiver):
    user = member_of(roles.RESPONDERS, "oncall")
    return SubscriptionFactory(user=user, channel=ChannelFactory(owner=user, url=receiver.url()), event=EventKind.NIGHTLY_RUN_FAILED)


def failure(key, capture):
    """A portal-wide event every nightly subscriber receives, recorded and its deliveries run after the commit."""
    with capture(execute=True):
        return record_event(EventKind.NIGHTLY_RUN_FAILED, key, title=f"Failed {key}", text="It failed.", internal=True)


def test_an_event_announced_twice_is_recorded_and_sent_once(nightly_subscriber, receiver, django_capture_on_commit_callbacks):
    failure("nightly.failed:1", django_capture_on_commit_callbacks)
    failure("nightly.failed:1", django_capture_on_commit_callbacks)
    assert Delivery.objects.count() == 1 and len(receiver.requests) == 1


def test_a_delivery_task_run_twice_sends_once(nightly_subscriber, receiver, django_capture_on_commit_callbacks):
    failure("nightly.failed:1", django_capture_on_commit_callbacks)
    delivery = Delivery.objects.get()
    assert deliver_notification.delay(delivery.pk).get() == DeliveryState.SENT
    assert deliver_notification.delay(delivery.pk).get() == DeliveryState.SENT
    assert len(receiver.requests) == 1
    assert stored(delivery).attempts == 1


def test_a_claimed_delivery_is_not_sent_by_a_second_attempt_until_its_claim_lapses(nightly_subscriber, receiver):
    event = record_event(EventKind.NIGHTLY_RUN_FAILED, "nightly.failed:1", title="Failed", text="It failed.", internal=True)
    delivery = event.deliveries.get()
    Delivery.objects.filter(pk=delivery.pk).update(state=DeliveryState.SENDING, claimed_until=datetime.datetime.max.replace(tzinfo=datetime.timezone.utc))
    assert sending.deliver(delivery.pk).state == DeliveryState.SENDING
    assert receiver.requests == []
    Delivery.objects.filter(pk=delivery.pk).update(claimed_until=datetime.datetime(2000, 1, 1, tzinfo=datetime.timezone.utc))
    assert sending.deliver(delivery.pk).state == DeliveryState.SENT
    assert len(receiver.requests) == 1


def test_a_channel_sends_at_most_its_rate_and_the_rest_waits_for_a_token(nightly_subscriber, receiver, django_capture_on_commit_callbacks):
    Channel.objects.filter(pk=nightly_subscriber.channel_id).update(rate_per_minute=2)
    for number in range(3):
        failure(f"nightly.failed:{number}", django_capture_on_commit_callbacks)
    assert len(receiver.requests) == 2
    waiting = Delivery.objects.get(state=DeliveryState.PENDING)
    assert waiting.attempts == 0 and waiting.next_attempt_at is not None
    # A token every 30 seconds at 2 a minute: the third is held about that long.
    assert datetime.timedelta(seconds=25) < waiting.next_attempt_at - waiting.created_at < datetime.timedelta(seconds=35)
    assert start_pending_deliveries() == 0  # not due yet
    # Minutes later, the bucket has tokens again; eagerly no task waited, so the beat entry sends what waited.
    later = datetime.timedelta(minutes=6)
    Channel.objects.filter(pk=nightly_subscriber.channel_id).update(bucket_at=F("bucket_at") - later)
    Delivery.objects.filter(pk=waiting.pk).update(next_attempt_at=F("next_attempt_at") - later)
    assert start_pending_deliveries() == 1
    assert len(receiver.requests) == 3 and stored(waiting).state == DeliveryState.SENT


def test_a_receiver_error_is_tried_again_with_backoff_then_given_up(nightly_subscriber, receiver, django_capture_on_commit_callbacks):
    receiver.status = 503
    failure("nightly.failed:1", django_capture_on_commit_callbacks)
    delivery = Delivery.objects.get()
    assert (delivery.state, delivery.attempts, delivery.last_error) == (DeliveryState.FAILED, 1, "The receiver answered 503.")
    waits = []
    for _ in range(2, sending.MAX_ATTEMPTS + 1):
        waits.append(sending.deliver(delivery.pk).wait_seconds)
    assert waits[:5] == [4, 8, 16, 32, 64] and max(waits) == sending.BACKOFF_MAX
    delivery = stored(delivery)
    assert delivery.state == DeliveryState.GAVE_UP and delivery.last_error.startswith(f"Gave up after {sending.MAX_ATTEMPTS} attempts")
    assert len(receiver.requests) == delivery.attempts == sending.MAX_ATTEMPTS
    assert deliver_notification.delay(delivery.pk).get() == DeliveryState.GAVE_UP  # nothing sends it again
    receiver.status = 404
    failure("nightly.failed:2", django_capture_on_commit_callbacks)
    refused = Delivery.objects.get(event__key="nightly.failed:2")
    assert (refused.state, refused.attempts, refused.last_error) == (DeliveryState.GAVE_UP, 1, "The receiver answered 404.")


@override_settings(NOTIFICATION_WEBHOOKS_ALLOW_PRIVATE=False)
@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8080/hook", "http://localhost/hook", "https://10.1.2.3/hook", "http://192.168.0.10/",
        "http://169.254.169.254/latest/meta-data/", "http://[::1]/hook", "ftp://hooks.example.com/x", "file:///etc/passwd",
        "https://user:pass@hooks.slack.com/services/x",
    ],
)
def test_private_loopback_and_non_http_destinations_are_refused_in_production(url):
    with pytest.raises(ValidationError) as refused:
        check_destination(url)
    assert "url" in refused.value.message_dict
    with pytest.raises(ValidationError):
        ChannelFactory(kind=ChannelKind.WEBHOOK, url=url)


@override_settings(NOTIFICATION_WEBHOOKS_ALLOW_PRIVATE=False)
def test_a_public_address_is_accepted():
    assert check_destination("https://93.184.215.14/services/T0/B0/x") == "https://93.184.215.14/services/T0/B0/x"


def test_a_destination_that_became_private_is_not_sent_to(nightly_subscriber, receiver, django_capture_on_commit_callbacks):
    with override_settings(NOTIFICATION_WEBHOOKS_ALLOW_PRIVATE=False):
        failure("nightly.failed:1", django_capture_on_commit_callbacks)
    delivery = Delivery.objects.get()
    assert delivery.state == DeliveryState.GAVE_UP and "private or local address" in delivery.last_error
    assert receiver.requests == []
