"""
On a real worker: breaches evaluated by the worker reach a local stand-in for Slack and a signed-webhook receiver
(real HTTP servers on 127.0.0.1), and a receiver that goes away mid-run gets its message exactly once when back.
"""
import datetime
import json

import pytest

from kpis import roles
from notifications.choices import ChannelKind, DeliveryState, EventKind
from notifications.models import Delivery
from scoring.tasks import evaluate_day_breaches
from tests.helpers import member_of
from tests.kpis.factories import KpiDefinitionFactory, ObservationFactory
from tests.notifications.factories import ChannelFactory, SubscriptionFactory
from tests.notifications.helpers import DAY, START, Receiver, signature_valid
from tests.tenancy.factories import CompanyFactory, ServiceFactory
from tests.workers import running_workers, send_task, wait_for, wait_until_idle

# This app's own Redis database; workers see committed data only, and serialized_rollback restores what
# migrations seed.
BROKER_URL = "redis://127.0.0.1:6379/10"
TIMEOUT = 60

pytestmark = [pytest.mark.worker, pytest.mark.slow, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def breaching_kpi(slug, service, minute):
    """A KPI beyond its critical threshold from `minute` on: a breach opens when the day is evaluated."""
    kpi = KpiDefinitionFactory(slug=slug, critical_threshold=6, target=1, units="ratio", breach_after=datetime.timedelta(0))
    ObservationFactory(kpi=kpi, company=service.domain.company, domain=service.domain, service=service,
                       observed_at=START + datetime.timedelta(minutes=minute), value=9)
    return kpi


def test_a_receiver_down_mid_run_gets_its_message_exactly_once_when_back(tmp_path):
    slack, generic = Receiver().start(), Receiver().start()
    service = ServiceFactory(domain__company=CompanyFactory(slug="comp-acme"))
    company = service.domain.company
    user = member_of(roles.RESPONDERS, "responder")
    webhook = ChannelFactory(owner=user, kind=ChannelKind.WEBHOOK, url=generic.url("/companyos"))
    for channel in (ChannelFactory(owner=user, kind=ChannelKind.CHAT, url=slack.url("/services/T0/B0/x")), webhook):
        SubscriptionFactory(user=user, channel=channel, event=EventKind.BREACH_OPENED)
    try:
        with running_workers(BROKER_URL, tmp_path, name="notify") as (worker,):
            breaching_kpi("first-kpi", service, 0)
            send_task(evaluate_day_breaches, BROKER_URL, day_iso=DAY.isoformat(), company_id=company.pk)
            wait_for(lambda: len(slack.requests) == 1 and len(generic.requests) == 1, timeout=TIMEOUT,
                     what=lambda: f"both receivers to hear of the first breach\n{worker.output()}")

            [chat] = slack.json_bodies()
            assert set(chat) == {"text", "attachments"} and "First Kpi" in chat["text"]
            [request] = generic.requests
            assert signature_valid(webhook.secret, request["body"], request["headers"]["X-CompanyOS-Signature"])
            assert json.loads(request["body"])["kpi"] == "first-kpi"

            # The webhook receiver goes away; the next breach reaches Slack and fails for the receiver.
            generic.stop()
            breaching_kpi("second-kpi", service, 5)
            send_task(evaluate_day_breaches, BROKER_URL, day_iso=DAY.isoformat(), company_id=company.pk)
            failed = Delivery.objects.filter(event__kpi__slug="second-kpi", channel=webhook)
            wait_for(lambda: failed.filter(state=DeliveryState.FAILED).exists(), timeout=TIMEOUT,
                     what=lambda: f"the delivery to the stopped receiver to fail\n{worker.output()}")
            assert "could not be reached" in failed.get().last_error
            wait_for(lambda: len(slack.requests) == 2, timeout=TIMEOUT, what="Slack to hear of the second breach")

            # Back on the same port: the retry (2 seconds on) delivers it.
            generic.requests.clear()
            generic.start()
            wait_for(lambda: failed.filter(state=DeliveryState.SENT).exists(), timeout=TIMEOUT,
                     what=lambda: f"the retry to deliver\n{worker.output()}")
            wait_until_idle(BROKER_URL, timeout=TIMEOUT, what="the queue to drain", workers=[worker])
            # Asked again, the worker sends nothing more.
            send_task(evaluate_day_breaches, BROKER_URL, day_iso=DAY.isoformat(), company_id=company.pk)
            wait_until_idle(BROKER_URL, timeout=TIMEOUT, what="the re-evaluation to finish", workers=[worker])
    finally:
        slack.stop()
        generic.stop()

    delivery = failed.get()
    assert delivery.attempts == 2 and delivery.response_status == 200
    [redelivered] = generic.requests  # since the receiver came back: one request, no repeat
    assert redelivered["headers"]["X-CompanyOS-Delivery"] == str(delivery.delivery_id)
    assert json.loads(redelivered["body"])["kpi"] == "second-kpi"
    assert signature_valid(webhook.secret, redelivered["body"], redelivered["headers"]["X-CompanyOS-Signature"])
    assert len(slack.requests) == 2
    assert Delivery.objects.count() == 4 and set(Delivery.objects.values_list("state", flat=True)) == {DeliveryState.SENT}
