"""The PagerDuty demo: real-format webhook payloads through the webhook's own path, deterministic and repeatable."""
import datetime
import statistics

import pytest

from connectors.choices import EventStatus
from connectors.models import Integration, ServiceLink, SourceEvent
from demo.sources.pagerduty import seed_pagerduty
from incidents.choices import IncidentStatus, Phase
from incidents.models import Incident, PhaseTransition

pytestmark = pytest.mark.slow  # a month of webhooks through the webhook's path

START = datetime.datetime(2024, 1, 1, tzinfo=datetime.timezone.utc)
END = START + datetime.timedelta(days=30)


def minutes(delta):
    return delta.total_seconds() / 60


def test_the_demo_delivers_a_month_of_incidents_as_pagerduty_webhooks(companies):
    summary = seed_pagerduty(companies, START, END, seed=42)

    incidents = Incident.objects.filter(external_id__startswith="pagerduty:")
    assert summary["pagerduty integrations"] == Integration.objects.filter(kind="pagerduty").count() == 2
    assert summary["pagerduty service links"] == ServiceLink.objects.count() == 4
    assert summary["pagerduty incidents"] == incidents.count()
    assert 2 * 30 <= incidents.count() <= 2 * 30 * 2
    assert summary["pagerduty events processed"] == SourceEvent.objects.filter(status=EventStatus.PROCESSED).count()
    assert not SourceEvent.objects.exclude(status=EventStatus.PROCESSED).exists()
    assert set(SourceEvent.objects.values_list("event_type", flat=True)) == {
        "incident.triggered", "incident.acknowledged", "incident.priority_updated", "incident.resolved",
    }
    assert all(event.payload["event"]["data"]["type"] == "incident" for event in SourceEvent.objects.all()[:20])

    assert not incidents.filter(service__isnull=True).exists()
    assert set(incidents.values_list("severity", flat=True)) == {"P1", "P2", "P3", "P4"}
    resolved = incidents.filter(status=IncidentStatus.RESOLVED)
    assert resolved.count() >= incidents.count() - 2  # only the last hour's may still be open
    mttr = statistics.median(minutes(i.resolved_at - i.detected_at) for i in resolved)
    mtta = statistics.median(minutes(i.acknowledged_at - i.detected_at) for i in incidents.filter(acknowledged_at__isnull=False))
    assert 20 <= mttr <= 90 and 1 <= mtta <= 15
    assert PhaseTransition.objects.filter(incident__in=incidents, phase=Phase.GATHER).count() == incidents.filter(
        acknowledged_at__isnull=False
    ).count()


def test_the_demo_is_deterministic_and_a_second_run_is_all_redeliveries(companies):
    week = START + datetime.timedelta(days=7)
    seed_pagerduty(companies, START, week, seed=42)
    first = list(Incident.objects.order_by("external_id").values_list("external_id", "severity", "detected_at", "resolved_at"))
    events = SourceEvent.objects.count()

    again = seed_pagerduty(companies, START, week, seed=42)

    assert list(Incident.objects.order_by("external_id").values_list("external_id", "severity", "detected_at", "resolved_at")) == first
    assert SourceEvent.objects.count() == events
    assert again["pagerduty events processed"] == events  # every one found as already processed
    assert Integration.objects.count() == 2 and ServiceLink.objects.count() == 4
