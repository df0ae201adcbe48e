"""Who hears of what: events of breaches, proposals, reviews and nightly failures reach their subscribers' channels."""
import datetime
import json

import pytest
from django.apps import apps
from django.contrib.auth.models import Group
from django.core import mail
from django.db import transaction

from kpis import roles
from kpis import services as kpi_services
from kpis.choices import Visibility
from notifications.choices import ChannelKind, DeliveryState, EventKind
from notifications.models import Delivery, Event, Subscription
from pipeline.tasks import compute_kpi_day
from scoring.weights import approve_weights_proposal, propose_weights
from tenancy.roles import ALL_COMPANIES
from tests.helpers import member_of
from tests.kpis.factories import KpiDefinitionFactory
from tests.notifications.factories import ChannelFactory, SubscriptionFactory
from tests.notifications.helpers import observe_and_evaluate, signature_valid

pytestmark = pytest.mark.django_db

BREACH_THEN_RECOVERY = [2, 7, 8, 9, 3]  # beyond 6 from minute 1 to 3 (opens at minute 3), back at minute 4


def chat_subscriber(receiver, event=EventKind.BREACH_OPENED, role=roles.RESPONDERS, username="responder", **fields):
    user = member_of(role, username)
    channel = ChannelFactory(owner=user, kind=ChannelKind.CHAT, url=receiver.url(f"/{username}"))
    return SubscriptionFactory(user=user, channel=channel, event=event, **fields)


def test_a_breach_reaches_a_subscribed_chat_channel_as_slack_mattermost_and_rocket_chat_read_it(
    burn_rate, acme, receiver, django_capture_on_commit_callbacks
):
    chat_subscriber(receiver)
    chat_subscriber(receiver, event=EventKind.BREACH_CLOSED, username="closer")
    with django_capture_on_commit_callbacks(execute=True):
        observe_and_evaluate(burn_rate, acme, BREACH_THEN_RECOVERY)
    opened, closed = sorted(receiver.requests, key=lambda request: request["path"] != "/responder")
    assert opened["headers"]["Content-Type"] == "application/json"
    body = json.loads(opened["body"])
    assert set(body) == {"text", "attachments"}
    assert body["text"].startswith("KPI breach: Error Budget Burn Rate beyond its critical threshold")
    assert "/cockpit/kpi/error-budget-burn-rate/?company=comp-acme" in body["text"]
    [attachment] = body["attachments"]
    assert {"fallback", "color", "title", "title_link", "text", "fields"} <= set(attachment)
    assert {"title": "Company", "value": "comp-acme", "short": True} in attachment["fields"]
    assert json.loads(closed["body"])["text"].startswith("Breach closed: Error Budget Burn Rate back within")
    assert set(Delivery.objects.values_list("state", flat=True)) == {DeliveryState.SENT}


def test_a_signed_webhook_carries_the_event_its_delivery_id_and_an_hmac_of_the_raw_body(
    burn_rate, acme, receiver, django_capture_on_commit_callbacks
):
    user = member_of(roles.RESPONDERS, "receiver-owner")
    channel = ChannelFactory(owner=user, kind=ChannelKind.WEBHOOK, url=receiver.url())
    SubscriptionFactory(user=user, channel=channel, event=EventKind.BREACH_OPENED)
    with django_capture_on_commit_callbacks(execute=True):
        observe_and_evaluate(burn_rate, acme, [7, 7, 7, 7])
    [request] = receiver.requests
    delivery = Delivery.objects.get()
    headers = request["headers"]
    assert signature_valid(channel.secret, request["body"], headers["X-CompanyOS-Signature"])
    assert not signature_valid("another secret", request["body"], headers["X-CompanyOS-Signature"])
    assert headers["X-CompanyOS-Delivery"] == str(delivery.delivery_id)
    assert headers["X-CompanyOS-Event"] == "breach.opened"
    body = json.loads(request["body"])
    assert body["delivery"] == str(delivery.delivery_id)
    assert (body["event"], body["company"], body["kpi"]) == ("breach.opened", "comp-acme", "error-budget-burn-rate")
    assert body["data"]["service"] == acme.slug and body["data"]["worst_value"] == 7
    assert (delivery.state, delivery.attempts, delivery.response_status) == (DeliveryState.SENT, 1, 200)


def test_an_e_mail_channel_sends_through_the_portals_mail_settings(burn_rate, acme, django_capture_on_commit_callbacks):
    user = member_of(roles.RESPONDERS, "mailer", email="mailer@example.com")
    channel = ChannelFactory(owner=user, kind=ChannelKind.EMAIL, address="oncall@example.com")
    SubscriptionFactory(user=user, channel=channel, event=EventKind.BREACH_OPENED)
    with django_capture_on_commit_callbacks(execute=True):
        observe_and_evaluate(burn_rate, acme, [7, 7, 7, 7])
    ours = [message for message in mail.outbox if message.to == ["oncall@example.com"]]
    assert len(ours) == 1 and ours[0].subject.startswith("KPI breach: Error Budget Burn Rate")


def test_a_group_subscription_naming_the_company_reaches_the_teams_channel(
    burn_rate, acme, globex, receiver, django_capture_on_commit_callbacks
):
    team_channel = ChannelFactory(owner=None, kind=ChannelKind.CHAT, url=receiver.url("/team"))
    responders = Group.objects.get_or_create(name=roles.RESPONDERS)[0]
    SubscriptionFactory(user=None, group=responders, channel=team_channel, company=acme.domain.company)
    # A group's subscription without a company hears of no company's events.
    SubscriptionFactory(user=None, group=responders, channel=ChannelFactory(owner=None, url=receiver.url("/all")))
    with django_capture_on_commit_callbacks(execute=True):
        observe_and_evaluate(burn_rate, acme, [7, 7, 7, 7])
        observe_and_evaluate(burn_rate, globex, [7, 7, 7, 7])
    assert [request["path"] for request in receiver.requests] == ["/team"]


@pytest.mark.separate_tenants
def test_a_companys_events_reach_only_its_members_and_all_companies_users(
    burn_rate, acme, globex, receiver, django_capture_on_commit_callbacks
):
    acme_responder = chat_subscriber(receiver, username="acme-responder").user
    acme_responder.memberships.create(company=acme.domain.company)
    chat_subscriber(receiver, username="globex-responder").user.memberships.create(company=globex.domain.company)
    portal_wide = chat_subscriber(receiver, username="msp-responder").user
    portal_wide.groups.add(Group.objects.get(name=ALL_COMPANIES))
    with django_capture_on_commit_callbacks(execute=True):
        observe_and_evaluate(burn_rate, acme, [7, 7, 7, 7])
    assert sorted(request["path"] for request in receiver.requests) == ["/acme-responder", "/msp-responder"]


def test_an_executive_does_not_hear_of_internal_kpis(owner, acme, receiver, django_capture_on_commit_callbacks):
    chat_subscriber(receiver, role=roles.EXECUTIVES, username="exec")
    chat_subscriber(receiver, role=roles.RESPONDERS, username="responder")
    internal = KpiDefinitionFactory(slug="internal-kpi", critical_threshold=6, target=1, units="ratio",
                                    visibility=Visibility.INTERNAL, breach_after=datetime.timedelta(0))
    public = KpiDefinitionFactory(slug="public-kpi", critical_threshold=6, target=1, units="ratio",
                                  visibility=Visibility.EXEC, breach_after=datetime.timedelta(0))
    with django_capture_on_commit_callbacks(execute=True):
        observe_and_evaluate(internal, acme, [7])
        observe_and_evaluate(public, acme, [7])
    heard = sorted((request["path"], json.loads(request["body"])["attachments"][0]["fields"][1]["value"]) for request in receiver.requests)
    assert heard == [("/exec", "public-kpi"), ("/responder", "internal-kpi"), ("/responder", "public-kpi")]


def test_a_kpi_owners_new_chat_channel_hears_of_their_own_definitions_by_default(
    burn_rate, owner, acme, receiver, django_capture_on_commit_callbacks
):
    owner.groups.add(Group.objects.get_or_create(name=roles.KPI_OWNERS)[0])
    channel = ChannelFactory(owner=owner, kind=ChannelKind.CHAT, url=receiver.url())
    defaults = Subscription.objects.filter(channel=channel)
    assert sorted(defaults.values_list("event", flat=True)) == sorted(
        ["breach.opened", "breach.closed", "proposal.submitted", "proposal.decided", "review.overdue"]
    )
    assert all(subscription.owned_only and subscription.is_default for subscription in defaults)
    someone_elses = KpiDefinitionFactory(slug="someone-elses", critical_threshold=6, target=1, units="ratio",
                                         breach_after=datetime.timedelta(0))
    with django_capture_on_commit_callbacks(execute=True):
        observe_and_evaluate(burn_rate, acme, BREACH_THEN_RECOVERY)
        observe_and_evaluate(someone_elses, acme, [7])
    titles = [body["text"].split("\n")[0] for body in receiver.json_bodies()]
    assert len(titles) == 2 and all("Error Budget Burn Rate" in title for title in titles)
    # An e-mail channel gets none: the portal already mails an owner their definitions' news.
    assert not ChannelFactory(owner=owner, kind=ChannelKind.EMAIL).subscriptions.exists()


def test_a_proposal_reaches_the_approvers_and_its_decision_reaches_the_author(
    alice, bob, receiver, django_capture_on_commit_callbacks
):
    kpi = KpiDefinitionFactory(slug="mttr", owner=alice)
    chat_subscriber(receiver, event=EventKind.PROPOSAL_SUBMITTED, role=roles.KPI_APPROVERS, username="approver")
    ChannelFactory(owner=alice, url=receiver.url("/alice"))  # a KPI owner's channel: subscribed by default
    with django_capture_on_commit_callbacks(execute=True):
        proposal = kpi_services.propose_change(kpi, actor=alice, reason="Tighter", target=20.0).proposal
    with django_capture_on_commit_callbacks(execute=True):
        kpi_services.approve_proposal(proposal, approver=bob, comment="Agreed")
    heard = [(request["path"], json.loads(request["body"])["text"]) for request in receiver.requests]
    assert sorted(path for path, _ in heard) == ["/alice", "/alice", "/approver"]
    submitted = dict(heard)["/approver"]
    assert submitted.startswith(f"Proposal #{proposal.pk} to change the KPI mttr awaits approval")
    assert "target 30.0 -> 20.0" in submitted
    assert heard[-1] == ("/alice", heard[-1][1]) and heard[-1][1].startswith(f"Proposal #{proposal.pk} to change the KPI mttr was approved")


def test_a_weights_proposal_is_announced_like_a_definitions(alice, bob, receiver, django_capture_on_commit_callbacks):
    chat_subscriber(receiver, event=EventKind.PROPOSAL_SUBMITTED, role=roles.KPI_APPROVERS, username="approver")
    chat_subscriber(receiver, event=EventKind.PROPOSAL_DECIDED, role=roles.AUDITORS, username="auditor")
    with django_capture_on_commit_callbacks(execute=True):
        proposal = propose_weights(actor=alice, reason="Money matters", reliability=10, financials=30)
    with django_capture_on_commit_callbacks(execute=True):
        approve_weights_proposal(proposal, approver=bob, comment="Fine")
    submitted, decided = receiver.json_bodies()
    assert submitted["text"].startswith(f"Proposal #{proposal.pk} to change the dimension weights awaits approval")
    assert decided["text"].startswith(f"Proposal #{proposal.pk} to change the dimension weights was approved")


def test_an_overdue_review_reaches_its_owner_alone(alice, receiver, django_capture_on_commit_callbacks):
    due = KpiDefinitionFactory(slug="mttr", owner=alice).next_review_due
    today = due + datetime.timedelta(days=3)
    ChannelFactory(owner=alice, url=receiver.url("/alice"))  # a KPI owner's channel: subscribed by default
    chat_subscriber(receiver, event=EventKind.REVIEW_OVERDUE, role=roles.AUDITORS, username="auditor")
    with django_capture_on_commit_callbacks(execute=True):
        kpi_services.send_overdue_review_reminder(alice, today)
    [request] = receiver.requests
    assert request["path"] == "/alice"
    assert f"- mttr (Mttr): review was due on {due:%Y-%m-%d}" in json.loads(request["body"])["text"]


def test_a_failed_nightly_task_is_announced(receiver, django_capture_on_commit_callbacks):
    chat_subscriber(receiver, event=EventKind.NIGHTLY_RUN_FAILED, username="oncall")
    with django_capture_on_commit_callbacks(execute=True):
        # As a worker runs it: the failure is recorded, not raised into the caller (eager mode would raise it).
        assert compute_kpi_day.apply(("no-such-kpi", "2024-01-15"), throw=False).failed()
    [body] = receiver.json_bodies()
    assert body["text"].startswith("The nightly run failed: pipeline.tasks.compute_kpi_day")
    assert "slug=no-such-kpi, day_iso=2024-01-15" in body["text"]


def test_a_rolled_back_write_announces_nothing(burn_rate, acme, receiver, django_capture_on_commit_callbacks):
    chat_subscriber(receiver)
    with django_capture_on_commit_callbacks(execute=True):
        with pytest.raises(RuntimeError), transaction.atomic():
            observe_and_evaluate(burn_rate, acme, [7, 7, 7, 7])
            raise RuntimeError("the write fails after the breach opened")
    assert not Event.objects.exists() and not Delivery.objects.exists()
    assert receiver.requests == []


def test_a_stored_report_reaches_its_companys_members_by_audience(acme, receiver, django_capture_on_commit_callbacks):
    if not apps.is_installed("reports"):
        pytest.skip("The reports app is not installed: nothing announces reports.")
    from reports.models import Report
    from reports.signals import report_ready

    chat_subscriber(receiver, event=EventKind.REPORT_READY, role=roles.EXECUTIVES, username="exec")
    chat_subscriber(receiver, event=EventKind.REPORT_READY, role=roles.RESPONDERS, username="responder")
    for audience in ("exec", "internal"):
        report = Report.objects.create(
            company=acme.domain.company, period_start=datetime.date(2024, 1, 1), period_end=datetime.date(2024, 1, 31),
            kind="monthly", audience=audience, created_at=datetime.datetime(2024, 2, 1, tzinfo=datetime.timezone.utc),
            html="<p>report</p>", pdf=b"%PDF", sources={},
        )
        with django_capture_on_commit_callbacks(execute=True):
            report_ready.send(sender=Report, report=report)
    heard = sorted((request["path"], json.loads(request["body"])["text"].split(":")[0]) for request in receiver.requests)
    assert heard == [("/exec", "Report ready"), ("/responder", "Report ready"), ("/responder", "Report ready")]
