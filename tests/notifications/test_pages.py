"""The cockpit's notifications page and the admin's channels and delivery log."""
import pytest
from django.urls import reverse

from kpis import roles
from notifications.choices import DeliveryState, EventKind
from notifications.models import Channel, Subscription
from notifications.services import record_event
from tests.helpers import member_of
from tests.notifications.factories import ChannelFactory, SubscriptionFactory

pytestmark = pytest.mark.django_db

PAGE = "/cockpit/notifications/"


@pytest.fixture
def responder(client):
    user = member_of(roles.RESPONDERS, "responder")
    client.force_login(user)
    return user


def test_the_cockpit_links_to_the_page_that_lists_a_persons_subscriptions(client, responder, receiver):
    channel = ChannelFactory(owner=responder, name="Ops chat", url=receiver.url())
    SubscriptionFactory(user=responder, channel=channel, event=EventKind.BREACH_OPENED)
    SubscriptionFactory(channel=ChannelFactory(name="Someone else's", url=receiver.url()), event=EventKind.BREACH_CLOSED)
    assert f'href="{PAGE}"' in client.get(reverse("cockpit:reviews")).content.decode()
    page = client.get(PAGE).content.decode()
    rows = page.split("<tbody>")[1].split("</tbody>")[0]
    assert "A breach opened" in rows and "Ops chat" in rows
    assert "A breach closed" not in rows and "Someone else" not in page


def test_a_person_adds_a_signed_webhook_sees_its_secret_once_and_subscribes_it(client, responder, receiver):
    answer = client.post(PAGE, {"add_channel": "1", "channel-name": "Bridge", "channel-kind": "webhook",
                                "channel-url": receiver.url(), "channel-rate_per_minute": "30"})
    channel = Channel.objects.get(owner=responder)
    assert answer.status_code == 200 and channel.secret in answer.content.decode()
    assert channel.secret not in client.get(PAGE).content.decode()
    answer = client.post(PAGE, {"add_subscription": "1", "subscription-event": "nightly.failed", "subscription-channel": channel.pk})
    assert answer.status_code == 302
    subscription = Subscription.objects.get()
    assert (subscription.user, subscription.event, subscription.channel) == (responder, "nightly.failed", channel)
    client.post(reverse("notifications:subscription", args=[subscription.pk]), {"active": "0"})
    assert Subscription.objects.get().active is False
    client.post(reverse("notifications:subscription", args=[subscription.pk]), {"delete": "1"})
    assert not Subscription.objects.exists()


def test_a_refused_channel_url_is_shown_at_the_field(client, responder, settings):
    settings.NOTIFICATION_WEBHOOKS_ALLOW_PRIVATE = False
    answer = client.post(PAGE, {"add_channel": "1", "channel-name": "Local", "channel-kind": "chat",
                                "channel-url": "http://127.0.0.1:9/hook", "channel-rate_per_minute": "30"})
    assert answer.status_code == 400
    assert "private or local address" in answer.content.decode()
    assert not Channel.objects.exists()


def test_nobody_changes_another_persons_subscription(client, responder, receiver):
    theirs = SubscriptionFactory(channel=ChannelFactory(url=receiver.url()))
    assert client.post(reverse("notifications:subscription", args=[theirs.pk]), {"delete": "1"}).status_code == 404
    assert client.post(reverse("notifications:channel", args=[theirs.channel_id])).status_code == 404
    assert Subscription.objects.filter(pk=theirs.pk, active=True).exists()


def test_a_user_without_a_role_is_told_why(client):
    client.force_login(member_of("Nobody in particular", "nobody"))
    answer = client.get(PAGE)
    assert answer.status_code == 403 and "no role yet" in answer.content.decode()


def test_the_admin_lists_every_delivery_with_its_state_attempts_and_answer(client, superuser, receiver, django_capture_on_commit_callbacks):
    user = member_of(roles.RESPONDERS, "oncall")
    SubscriptionFactory(user=user, channel=ChannelFactory(owner=user, name="Ops chat", url=receiver.url()), event=EventKind.NIGHTLY_RUN_FAILED)
    with django_capture_on_commit_callbacks(execute=True):
        record_event(EventKind.NIGHTLY_RUN_FAILED, "nightly.failed:1", title="Nightly run failed", text="x", internal=True)
    client.force_login(superuser)
    log = client.get(reverse("admin:notifications_delivery_changelist"), {"state": DeliveryState.SENT}).content.decode()
    assert "Nightly run failed" in log and "Ops chat" in log and "nightly.failed" in log and ">200<" in log


def test_the_admin_shows_a_webhook_secret_once_when_made_and_masked_after(client, superuser, receiver):
    client.force_login(superuser)
    answer = client.post(
        reverse("admin:notifications_channel_add"),
        {"name": "Team bridge", "kind": "webhook", "url": receiver.url(), "rate_per_minute": "30", "active": "on",
         "change_reason": "The team's receiver"},
        follow=True,
    )
    channel = Channel.objects.get()
    assert channel.secret in answer.content.decode()
    change_page = client.get(reverse("admin:notifications_channel_change", args=[channel.pk])).content.decode()
    assert channel.secret not in change_page and "shown once" in change_page
    assert channel.history.get().history_change_reason == "The team's receiver"
