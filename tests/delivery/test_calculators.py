"""The DORA calculators against values worked out by hand on small sets of changes, deployments, builds, incidents."""
import datetime

import pytest

from delivery.calculators import (
    build_success_rate_evidence,
    change_failure_rate_evidence,
    deployment_frequency_evidence,
    lead_time_for_changes_evidence,
)
from kpis.choices import ObservationSource
from kpis.models import Observation
from kpis.observations import compute_observations
from tests.companyos.factories import BASE_TIME
from tests.delivery.factories import BuildRunFactory, ChangeFactory, DeploymentFactory
from tests.incidents.factories import IncidentFactory
from tests.tenancy.factories import CompanyFactory, ServiceFactory

pytestmark = pytest.mark.django_db

DAY = BASE_TIME.date()  # 2024-01-15; the 7-day window ending with it starts 2024-01-09
NEXT_DAY = DAY + datetime.timedelta(days=1)


def at(day, hour, minute=0):
    """2024-01-`day` hour:minute UTC."""
    return datetime.datetime(2024, 1, day, hour, minute, tzinfo=datetime.timezone.utc)


def compute(slug, since=DAY, until=NEXT_DAY):
    """The stored values of `slug` computed over [since, until), by company slug and day."""
    compute_observations(slug, since=since, until=until, source=ObservationSource.BACKFILL, run="test")
    return {
        (observation.company.slug, observation.observed_at.date()): observation.value
        for observation in Observation.objects.filter(kpi__slug=slug).select_related("company")
    }


@pytest.fixture
def payments(db):
    return ServiceFactory(slug="payments", domain__company=CompanyFactory(slug="comp-acme"))


@pytest.fixture
def search(payments):
    return ServiceFactory(slug="search", domain__company=payments.domain.company)


def deployed(service, finished_at, **fields):
    """A deployment of `service` created 10 minutes before it finished (successful and to production by default)."""
    created_at = finished_at - datetime.timedelta(minutes=10)
    return DeploymentFactory(service=service, created_at=created_at, finished_at=finished_at, **fields)


def test_deployment_frequency_is_successful_production_deployments_per_day_over_a_week(computed_kpis, payments, search):
    for day in range(9, 16):  # two a day in the window, one service or the other
        deployed(payments, at(day, 10))
        deployed(search, at(day, 15))
    deployed(payments, at(8, 23, 59))  # before the window
    deployed(payments, at(16, 0))  # the next day
    deployed(payments, at(12, 11), state="failure")
    deployed(payments, at(12, 12), environment="staging", production=False)
    DeploymentFactory(service=payments, created_at=at(13, 9), state="in_progress")
    # A company that deploys through GitHub, but did not this week: zero, not "no data".
    DeploymentFactory(service__domain__company=CompanyFactory(slug="comp-quiet"), created_at=at(1, 9))
    CompanyFactory(slug="comp-never")  # never reported a deployment: no value rather than zero

    assert compute("deployment-frequency") == {("comp-acme", DAY): 2.0, ("comp-quiet", DAY): 0.0}
    assert deployment_frequency_evidence(payments.domain.company, at(9, 0), at(16, 0)) == {
        "production_deployments": 14, "deployments_per_day": 2.0,
    }


def test_lead_time_is_the_median_from_first_commit_to_the_production_deployment_that_shipped_it(
    computed_kpis, payments, search
):
    deployed(payments, at(15, 6, 30))  # created 06:20
    ChangeFactory(service=payments, first_commit_at=at(15, 2), merged_at=at(15, 5))  # ships with it: 4.5 h
    deployed(payments, at(15, 7, 10), state="failure")  # a failed deployment ships nothing
    deployed(payments, at(15, 7, 30), environment="staging", production=False)  # nor does staging
    ChangeFactory(service=payments, first_commit_at=at(14, 20), merged_at=at(15, 6, 25))  # merged after 06:20: 13.5 h
    ChangeFactory(service=payments, first_commit_at=at(15, 8), merged_at=at(15, 8, 30))  # 1.5 h
    deployed(payments, at(15, 9, 30))
    ChangeFactory(service=payments, first_commit_at=at(15, 9), merged_at=at(15, 10))  # not deployed yet
    ChangeFactory(service=search, first_commit_at=at(10, 0), merged_at=at(12, 0))  # 50 h, by its service's deployment
    deployed(search, at(12, 2))
    ChangeFactory(service=payments, first_commit_at=at(1, 0), merged_at=at(1, 12))  # shipped before the window
    deployed(payments, at(1, 14))

    # Shipped in the week ending on the 15th: 1.5, 4.5, 13.5, 50 -> (4.5 + 13.5) / 2; in the week to the 12th: 50.
    assert compute("lead-time-for-changes", since=DAY.replace(day=12), until=NEXT_DAY) == {
        ("comp-acme", DAY.replace(day=12)): 50.0,
        ("comp-acme", DAY.replace(day=13)): 50.0,
        ("comp-acme", DAY.replace(day=14)): 50.0,
        ("comp-acme", DAY): 9.0,
    }
    assert lead_time_for_changes_evidence(payments.domain.company, at(15, 0), at(16, 0)) == {
        "changes_shipped": 3, "median_lead_time_hours": 4.5,
    }


def test_change_failure_rate_is_the_share_of_production_deployments_followed_by_an_incident_they_caused(
    computed_kpis, payments, search
):
    deployed(payments, at(10, 10))  # d1
    IncidentFactory(service=payments, severity="P1", detected_at=at(10, 12))  # 2 h after d1: d1 failed
    deployed(payments, at(11, 10))  # d2: a newer deployment came before the next incident
    deployed(payments, at(11, 11))  # d3
    IncidentFactory(service=payments, severity="P2", detected_at=at(11, 11, 30))  # the latest before it is d3
    IncidentFactory(service=payments, severity="P1", detected_at=at(12, 12))  # 25 h after d3: not a change's
    deployed(payments, at(12, 11), state="failure")  # not in production, blamed for nothing
    deployed(payments, at(12, 11, 30), environment="staging", production=False)
    deployed(payments, at(13, 10))  # d4
    IncidentFactory(service=payments, severity="P3", detected_at=at(13, 10, 5))  # low severity: not a failed change
    IncidentFactory(service=search, severity="P1", detected_at=at(13, 10, 30))  # another service
    IncidentFactory(service=None, company=payments.domain.company, severity="P1", detected_at=at(13, 10, 45))
    deployed(payments, at(1, 9))  # 14 days before the 15th: in the 30-day window, no incident after it
    deployed(payments, at(16, 8))  # after the day

    # d1 and d3 of the 5 successful production deployments (1st, 10th, 11th twice, 13th) caused an incident.
    assert compute("change-failure-rate") == {("comp-acme", DAY): 40.0}
    assert change_failure_rate_evidence(payments.domain.company, at(10, 0), at(14, 0)) == {
        "production_deployments": 4, "deployments_with_incident": 2, "change_failure_pct": 50.0,
    }


def test_of_two_deployments_finished_at_once_the_later_recorded_is_blamed_and_a_merged_incident_is_not_counted(
    computed_kpis, payments
):
    first, second = deployed(payments, at(14, 9)), deployed(payments, at(14, 9))
    assert first.pk < second.pk
    blamed = IncidentFactory(service=payments, severity="P1", detected_at=at(14, 10))
    deployed(payments, at(14, 12))
    IncidentFactory(service=payments, severity="P1", detected_at=at(14, 13), resolved_at=at(14, 14), merged_into=blamed)

    # Of the three deployments only the second of the 9:00 pair caused an incident.
    assert compute("change-failure-rate") == {("comp-acme", DAY): pytest.approx(100 / 3)}


def test_build_success_rate_counts_builds_that_passed_or_failed_and_leaves_out_those_that_never_judged_the_code(
    computed_kpis, payments
):
    conclusions = ["success"] * 6 + ["failure", "timed_out", "cancelled", "cancelled", "skipped", "neutral"]
    for n, conclusion in enumerate(conclusions):
        BuildRunFactory(service=payments, conclusion=conclusion, completed_at=at(9 + n % 7, 12))
    BuildRunFactory(service=payments, conclusion="failure", completed_at=at(8, 23))  # before the window
    idle = CompanyFactory(slug="comp-idle")
    BuildRunFactory(service__domain__company=idle, conclusion="cancelled", completed_at=at(14, 9))

    # 6 successes of 8 judged (cancelled, skipped and neutral are not); only cancelled builds give no value.
    assert compute("build-success-rate") == {("comp-acme", DAY): 75.0}
    assert build_success_rate_evidence(payments.domain.company, at(9, 0), at(16, 0)) == {
        "builds": 12, "judged_builds": 8, "successful_builds": 6, "build_success_pct": 75.0,
    }


def test_an_incident_24_hours_after_a_deployment_is_still_blamed_on_it_a_minute_later_it_is_not(computed_kpis, payments, search):
    deployed(payments, at(14, 9))
    IncidentFactory(service=payments, severity="P1", detected_at=at(15, 9))
    deployed(search, at(14, 9))
    IncidentFactory(service=search, severity="P1", detected_at=at(15, 9, 1))

    assert compute("change-failure-rate") == {("comp-acme", DAY): 50.0}
