"""/api/notifications/: a person's own channels and subscriptions."""
import pytest

from kpis import roles
from notifications.choices import ChannelKind
from notifications.models import Channel, Subscription
from tests.helpers import client_for, member_of
from tests.notifications.factories import ChannelFactory, SubscriptionFactory

pytestmark = pytest.mark.django_db

CHANNELS = "/api/notifications/channels/"
SUBSCRIPTIONS = "/api/notifications/subscriptions/"


@pytest.fixture
def responder():
    return member_of(roles.RESPONDERS, "responder")


def test_a_signed_webhooks_secret_is_in_the_answer_that_made_it_and_never_again(responder, receiver):
    client = client_for(responder)
    made = client.post(CHANNELS, {"name": "Pager bridge", "kind": "webhook", "url": receiver.url()}, format="json")
    assert made.status_code == 201, made.content
    secret = made.json()["secret"]
    channel = Channel.objects.get()
    assert channel.secret == secret and len(secret) == 64 and channel.owner == responder
    assert "secret" not in client.get(f"{CHANNELS}{channel.pk}/").json()
    assert secret not in client.get(CHANNELS).content.decode()
    renamed = client.patch(f"{CHANNELS}{channel.pk}/", {"name": "Bridge"}, format="json")
    assert "secret" not in renamed.json()
    rotated = client.patch(f"{CHANNELS}{channel.pk}/", {"new_secret": True}, format="json").json()["secret"]
    assert rotated != secret and Channel.objects.get().secret == rotated
    assert not any("secret" in str(row) for row in channel.history.values("history_change_reason"))


def test_a_channels_url_is_checked_and_named_in_the_error(responder):
    answer = client_for(responder).post(CHANNELS, {"name": "x", "kind": "chat", "url": "ftp://chat.example.com/x"}, format="json")
    assert answer.status_code == 400
    assert "url" in answer.json()["error"]["fields"]
    answer = client_for(responder).post(CHANNELS, {"name": "x", "kind": "chat"}, format="json")
    assert answer.status_code == 400 and "url" in answer.json()["error"]["fields"]


def test_subscriptions_are_made_listed_changed_and_deleted_by_their_owner_only(responder, receiver):
    client = client_for(responder)
    channel = ChannelFactory(owner=responder, url=receiver.url())
    made = client.post(SUBSCRIPTIONS, {"event": "breach.opened", "channel": channel.pk, "company": None}, format="json")
    assert made.status_code == 201, made.content
    subscription = Subscription.objects.get()
    assert (subscription.user, subscription.channel, subscription.active) == (responder, channel, True)
    assert client.patch(f"{SUBSCRIPTIONS}{subscription.pk}/", {"active": False}, format="json").json()["active"] is False
    other = member_of(roles.RESPONDERS, "other")
    other_client = client_for(other)
    assert other_client.get(SUBSCRIPTIONS).json()["results"] == []
    assert other_client.get(f"{SUBSCRIPTIONS}{subscription.pk}/").status_code == 404
    assert other_client.delete(f"{SUBSCRIPTIONS}{subscription.pk}/").status_code == 404
    # Another person's channel cannot be named.
    refused = other_client.post(SUBSCRIPTIONS, {"event": "breach.opened", "channel": channel.pk}, format="json")
    assert refused.status_code == 400 and "channel" in refused.json()["error"]["fields"]
    assert client.delete(f"{SUBSCRIPTIONS}{subscription.pk}/").status_code == 204
    assert not Subscription.objects.exists()
    assert subscription.history.model.objects.filter(id=subscription.pk, history_type="-").exists()


@pytest.mark.separate_tenants
def test_a_subscription_names_only_a_company_of_its_owner(responder, acme, globex, receiver):
    responder.memberships.create(company=acme.domain.company)
    channel = ChannelFactory(owner=responder, url=receiver.url())
    client = client_for(responder)
    own = client.post(SUBSCRIPTIONS, {"event": "breach.opened", "channel": channel.pk, "company": "comp-acme"}, format="json")
    assert own.status_code == 201 and own.json()["company"] == "comp-acme"
    other = client.post(SUBSCRIPTIONS, {"event": "breach.opened", "channel": channel.pk, "company": "comp-globex"}, format="json")
    assert other.status_code == 400 and "company" in other.json()["error"]["fields"]


def test_a_data_source_or_a_user_without_a_role_manages_no_notifications(receiver):
    for user in (member_of(roles.DATA_SOURCES, "feed"), member_of("Nobody in particular", "nobody")):
        client = client_for(user)
        assert client.get(SUBSCRIPTIONS).status_code == 403
        assert client.post(CHANNELS, {"name": "x", "kind": ChannelKind.CHAT, "url": receiver.url()}, format="json").status_code == 403
    assert not Channel.objects.exists()


def test_subscription_list_runs_a_fixed_number_of_queries(responder, receiver, django_assert_max_num_queries):
    channel = ChannelFactory(owner=responder, url=receiver.url())
    for event in ("breach.opened", "breach.closed", "nightly.failed"):
        SubscriptionFactory(user=responder, channel=channel, event=event)
    client = client_for(responder)
    with django_assert_max_num_queries(8):
        assert len(client.get(SUBSCRIPTIONS).json()["results"]) == 3
