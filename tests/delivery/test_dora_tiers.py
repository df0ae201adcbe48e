"""DORA performance tiers: each metric classified at every edge of the 2023 and 2024 reports' clusters."""
import datetime

import pytest
from django.core.exceptions import ValidationError

from delivery.dora import (
    CHANGE_FAILURE_RATE,
    COMPANY,
    DEPLOYMENT_FREQUENCY,
    LEAD_TIME,
    SERVICE,
    TEAM,
    TIME_TO_RESTORE,
    classify,
    tier_targets,
    tiers,
)
from kpis.calculators import Period
from tests.delivery.factories import ChangeFactory, DeploymentFactory
from tests.tenancy.factories import CompanyFactory, ServiceFactory

BELOW = 1e-9
BOTH = (2023, 2024)

# (years, metric, value, tier): each bound, just either side of it.
EDGES = [
    # Deployments per day: Elite more than once a day, High at least weekly, Medium at least monthly.
    *[(year, DEPLOYMENT_FREQUENCY, value, tier) for year in BOTH for value, tier in [
        (3.0, "elite"), (1 + BELOW, "elite"), (1.0, "high"), (1 / 7, "high"), (1 / 7 - BELOW, "medium"),
        (1 / 30, "medium"), (1 / 30 - BELOW, "low"), (0.0, "low"),
    ]],
    # Lead time in hours: Elite under a day, High up to a week, Medium up to a month (30 days).
    *[(year, LEAD_TIME, value, tier) for year in BOTH for value, tier in [
        (0.5, "elite"), (24 - BELOW, "elite"), (24.0, "high"), (168.0, "high"), (168 + BELOW, "medium"),
        (720.0, "medium"), (720 + BELOW, "low"), (5000.0, "low"),
    ]],
    # Change failure rate in percent, 2023: 5 / 10 / 15 %.
    *[(2023, CHANGE_FAILURE_RATE, value, tier) for value, tier in [
        (0.0, "elite"), (5.0, "elite"), (5 + BELOW, "high"), (10.0, "high"), (10 + BELOW, "medium"), (15.0, "medium"),
        (15 + BELOW, "low"), (64.0, "low"),
    ]],
    # 2024: Elite 5 %, High 20 %, Medium 10 % (better than High: never reached), Low 40 %.
    *[(2024, CHANGE_FAILURE_RATE, value, tier) for value, tier in [
        (5.0, "elite"), (5 + BELOW, "high"), (10.0, "high"), (20.0, "high"), (20 + BELOW, "low"), (40.0, "low"),
        (90.0, "low"),
    ]],
    # Time to restore in minutes, 2023: Elite under an hour, High under a day, Medium up to a week.
    *[(2023, TIME_TO_RESTORE, value, tier) for value, tier in [
        (60 - BELOW, "elite"), (60.0, "high"), (1440 - BELOW, "high"), (1440.0, "medium"), (10080.0, "medium"),
        (10080 + BELOW, "low"),
    ]],
    # 2024: High and Medium both under a day (Medium never reached); a day or more is Low.
    *[(2024, TIME_TO_RESTORE, value, tier) for value, tier in [
        (60 - BELOW, "elite"), (60.0, "high"), (1440 - BELOW, "high"), (1440.0, "low"), (10080.0, "low"),
    ]],
]


@pytest.mark.parametrize(("year", "metric", "value", "tier"), EDGES)
def test_each_metric_is_classified_at_each_edge_of_the_report_years_clusters(year, metric, value, tier):
    assert classify(metric, value, year) == tier


def test_the_report_year_is_a_setting(settings):
    settings.DORA_REPORT_YEAR = 2023
    assert classify(CHANGE_FAILURE_RATE, 12.0) == "medium"
    settings.DORA_REPORT_YEAR = 2024
    assert classify(CHANGE_FAILURE_RATE, 12.0) == "high"
    settings.DORA_REPORT_YEAR = 2019
    with pytest.raises(ValidationError, match="No DORA report 2019"):
        classify(CHANGE_FAILURE_RATE, 12.0)


def test_a_tiers_thresholds_as_targets_have_the_next_worse_bound_beyond_them_as_critical():
    assert tier_targets("elite", 2024) == {
        DEPLOYMENT_FREQUENCY: (1, 1 / 7), LEAD_TIME: (24, 168), CHANGE_FAILURE_RATE: (5, 20), TIME_TO_RESTORE: (60, 1440),
    }
    # 2024's High change failure rate (20 %) has Medium's 10 % on its better side: Low's 40 % is the critical.
    assert tier_targets("high", 2024)[CHANGE_FAILURE_RATE] == (20, 40)
    # 2023's Low deploys as often as Medium: no worse bound, the definition keeps its own critical threshold.
    assert tier_targets("medium", 2023)[DEPLOYMENT_FREQUENCY] == (1 / 30, None)
    with pytest.raises(ValidationError, match="'low' cannot be a target"):
        tier_targets("low", 2024)


def at(day, hour):
    return datetime.datetime(2024, 3, day, hour, tzinfo=datetime.timezone.utc)


def test_tiers_per_company_team_and_service_for_each_day(db):
    payments = ServiceFactory(domain__company=CompanyFactory(slug="comp-acme"))
    search = ServiceFactory(domain=payments.domain)
    for day in range(1, 21):  # payments deploys twice a day, search once a week
        for hour in (9, 15):
            DeploymentFactory(service=payments, team="payments-team", created_at=at(day, hour), finished_at=at(day, hour))
    for day in (1, 8, 15):
        DeploymentFactory(service=search, team="search-team", created_at=at(day, 10), finished_at=at(day, 10))
    ChangeFactory(service=payments, team="payments-team", first_commit_at=at(19, 1), merged_at=at(19, 2))  # ships at 09:00: 8 h
    company = payments.domain.company
    period = Period(at(19, 0), at(21, 0))

    by_team = {scope.key: scope for scope in tiers(company, period, TEAM, year=2024)}
    by_service = {scope.key: scope for scope in tiers(company, period, SERVICE, year=2024)}
    (whole,) = tiers(company, period, COMPANY, year=2024)

    payments_20th = by_team["payments-team"].days[datetime.date(2024, 3, 20)]
    assert payments_20th[DEPLOYMENT_FREQUENCY] == (pytest.approx(40 / 30), "elite")
    assert by_team["payments-team"].days[datetime.date(2024, 3, 19)][LEAD_TIME] == (pytest.approx(8.0), "elite")
    assert by_team["search-team"].days[datetime.date(2024, 3, 20)][DEPLOYMENT_FREQUENCY] == (pytest.approx(3 / 30), "medium")
    assert sorted(by_team) == ["payments-team", "search-team"]
    assert by_service[search.pk].days[datetime.date(2024, 3, 20)][DEPLOYMENT_FREQUENCY][1] == "medium"
    assert whole.days[datetime.date(2024, 3, 20)][DEPLOYMENT_FREQUENCY] == (pytest.approx(43 / 30), "elite")
    assert list(whole.days) == [datetime.date(2024, 3, 19), datetime.date(2024, 3, 20)]
    assert whole.latest()[DEPLOYMENT_FREQUENCY][2] == datetime.date(2024, 3, 20)
