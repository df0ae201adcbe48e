"""The GitHub demo: real-format webhook payloads through the webhook's own path, deterministic and repeatable."""
import datetime

import pytest
from django.db.models import F

from connectors.choices import EventStatus
from connectors.models import Integration, ServiceLink, SourceEvent
from delivery.models import BuildRun, Change, Deployment
from demo.sources.github import seed_github
from kpis.choices import ObservationSource
from kpis.models import Observation
from kpis.observations import compute_observations

pytestmark = pytest.mark.slow  # two weeks of webhooks through the webhook's path

START = datetime.datetime(2024, 1, 8, tzinfo=datetime.timezone.utc)  # a Monday
END = START + datetime.timedelta(days=14)


def test_the_demo_delivers_two_weeks_of_merges_builds_and_deployments_as_github_webhooks(companies, computed_kpis):
    summary = seed_github(companies, START, END, seed=42)

    assert summary["github integrations"] == Integration.objects.filter(kind="github").count() == 2
    assert summary["github repositories linked"] == ServiceLink.objects.count() == 4
    assert summary["github events processed"] == SourceEvent.objects.filter(source="github").count()
    assert not SourceEvent.objects.exclude(status=EventStatus.PROCESSED).exists()
    assert set(SourceEvent.objects.values_list("event_type", flat=True)) == {
        "pull_request", "push", "workflow_run", "check_suite", "deployment", "deployment_status",
    }
    assert (summary["changes"], summary["deployments"], summary["builds"]) == (
        Change.objects.count(), Deployment.objects.count(), BuildRun.objects.count()
    )
    # Two services deploy 1-2 times a weekday and at most once a weekend day, each deploy shipping 1-2 changes.
    assert 2 * 2 * 10 <= Deployment.objects.count() <= 2 * 2 * (10 * 2 + 4)
    assert Deployment.objects.filter(state="failure").exists() and Deployment.objects.filter(state="success").exists()
    assert Change.objects.filter(pull_request__isnull=True).exists()  # a few direct pushes
    assert not Change.objects.filter(first_commit_at__gt=F("merged_at")).exists()

    last_day = END.date() - datetime.timedelta(days=1)
    for slug in ("deployment-frequency", "lead-time-for-changes", "build-success-rate"):
        compute_observations(slug, since=last_day, until=END.date(), source=ObservationSource.BACKFILL, run="test")
    for company in companies:
        values = dict(Observation.objects.filter(company=company).values_list("kpi__slug", "value"))
        assert 1 <= values["deployment-frequency"] <= 4
        assert 1 <= values["lead-time-for-changes"] <= 12
        assert 80 <= values["build-success-rate"] <= 100


def changes():
    fields = ("repository", "sha", "first_commit_at", "merged_at")
    return list(Change.objects.order_by("repository", "sha").values_list(*fields))


def test_the_demo_is_deterministic_and_a_second_run_is_all_redeliveries(companies):
    week = START + datetime.timedelta(days=7)
    seed_github(companies, START, week, seed=42)
    first = changes()
    events = SourceEvent.objects.count()

    again = seed_github(companies, START, week, seed=42)

    assert changes() == first
    assert SourceEvent.objects.count() == events
    assert again["github events processed"] == events  # every one found as already processed
    assert Integration.objects.count() == 2 and ServiceLink.objects.count() == 4
