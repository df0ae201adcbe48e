"""The finance calculators against values computed by hand from imported rows."""
import datetime

import pytest

from kpis.choices import ObservationSource
from kpis.models import Observation
from kpis.observations import compute_observations
from tests.connectors.factories import UploadEventFactory
from tests.finance.factories import CloudCostLineItemFactory, RevenueRecordFactory
from tests.product.factories import ActiveUserFactory
from tests.tenancy.factories import CompanyFactory

DAY = datetime.date(2024, 1, 15)


def month(year, number):
    return datetime.date(year, number, 1)


def at(day):
    return datetime.datetime.combine(day, datetime.time.min, tzinfo=datetime.timezone.utc)


def values(slug, day=DAY, company=None):
    """The value of `slug` computed for `day`, per company slug (companies without a value are absent)."""
    compute_observations(slug, since=day, until=day + datetime.timedelta(days=1), company=company,
                         source=ObservationSource.BACKFILL, run="test")
    return {o.company.slug: o.value for o in Observation.objects.filter(kpi__slug=slug).select_related("company")}


def run_values(slug, since, until):
    """The values of `slug` computed for the days in [since, until) in one run, per day."""
    compute_observations(slug, since=since, until=until, source=ObservationSource.BACKFILL, run="test")
    return {o.observed_at.date(): o.value for o in Observation.objects.filter(kpi__slug=slug)}


@pytest.fixture
def acme(db):
    return CompanyFactory(slug="comp-acme")


@pytest.fixture
def mrr_history(acme):
    """
    A year of an MRR export. Cohort of 2023-01: A 1000, B 500, C 300 (MRR 1800). Since then A expanded by 200
    (2023-03), B contracted by 100 (2023-05), C churned (2023-06); D joined in 2023-04 with 400 and expanded by
    100 (2023-08). MRR of 2024-01: A 1200 + B 400 + D 500 = 2100.
    """
    movements = {
        ("A", month(2023, 3)): {"expansion": 200}, ("B", month(2023, 5)): {"contraction": 100},
        ("C", month(2023, 6)): {"churn": 300}, ("D", month(2023, 4)): {"new": 400}, ("D", month(2023, 8)): {"expansion": 100},
    }
    mrr = {"A": 1000, "B": 500, "C": 300, "D": 0}
    export = UploadEventFactory(company=acme)
    current = month(2023, 1)
    while current <= month(2024, 1):
        for customer in "ABCD":
            moved = movements.get((customer, current), {})
            mrr[customer] += moved.get("new", 0) + moved.get("expansion", 0) - moved.get("contraction", 0) - moved.get("churn", 0)
            if mrr[customer] or moved:
                RevenueRecordFactory(
                    company=acme, customer_id=customer, month=current, recurring_revenue=mrr[customer], source_event=export, **moved
                )
        current = (current + datetime.timedelta(days=31)).replace(day=1)
    return mrr


def test_nrr_is_the_cohort_of_a_year_ago_with_its_expansion_net_of_contraction_and_churn(computed_kpis, mrr_history):
    # (1800 + 200 - 100 - 300) / 1800: the new customer D and its expansion are left out.
    assert values("net-revenue-retention") == {"comp-acme": pytest.approx(1600 / 1800 * 100)}


def test_nrr_has_no_value_before_the_days_month_or_the_month_a_year_before_is_imported(computed_kpis, mrr_history):
    assert values("net-revenue-retention", day=datetime.date(2024, 2, 10)) == {}
    assert values("net-revenue-retention", day=datetime.date(2023, 12, 31)) == {}


def test_arr_growth_is_the_mrr_now_over_the_mrr_of_the_same_month_a_year_before(computed_kpis, mrr_history):
    assert values("arr-growth-rate") == {"comp-acme": pytest.approx((2100 / 1800 - 1) * 100)}


def test_arr_growth_has_no_value_with_less_than_a_year_of_revenue(computed_kpis, mrr_history):
    assert values("arr-growth-rate", day=datetime.date(2023, 12, 20)) == {}


def test_each_day_of_a_run_takes_its_own_billing_month(computed_kpis, mrr_history):
    run = datetime.date(2023, 12, 30), datetime.date(2024, 1, 3)  # December has no month a year before
    january = [datetime.date(2024, 1, 1), datetime.date(2024, 1, 2)]

    assert run_values("arr-growth-rate", *run) == {day: pytest.approx((2100 / 1800 - 1) * 100) for day in january}
    assert run_values("net-revenue-retention", *run) == {day: pytest.approx(1600 / 1800 * 100) for day in january}


def test_gross_margin_is_the_months_revenue_less_the_cloud_cost_of_the_30_days_ending_with_the_day(computed_kpis, acme):
    RevenueRecordFactory(company=acme, month=month(2024, 1), recurring_revenue=1500)
    RevenueRecordFactory(company=acme, month=month(2024, 1), recurring_revenue=600)
    RevenueRecordFactory(company=acme, month=month(2023, 12), recurring_revenue=5000)  # another month
    CloudCostLineItemFactory(company=acme, usage_start=at(datetime.date(2023, 12, 16)), unblended_cost=1000)  # before the 30 days
    CloudCostLineItemFactory(company=acme, usage_start=at(datetime.date(2023, 12, 17)), unblended_cost=200)
    CloudCostLineItemFactory(company=acme, usage_start=at(DAY), product_code="AmazonS3", unblended_cost="300.5")
    CloudCostLineItemFactory(company=acme, usage_start=at(DAY), line_item_type="Credit", unblended_cost="-50.5")
    CloudCostLineItemFactory(company=acme, usage_start=at(datetime.date(2024, 1, 16)), unblended_cost=1000)  # after the day

    # (2100 - 450) / 2100
    assert values("gross-margin") == {"comp-acme": pytest.approx(1650 / 2100 * 100)}


def test_gross_margin_needs_both_revenue_and_cost(computed_kpis, acme):
    RevenueRecordFactory(company=acme, month=month(2024, 1), recurring_revenue=2000)
    CloudCostLineItemFactory(company=CompanyFactory(slug="comp-globex"), usage_start=at(DAY), unblended_cost=10)

    assert values("gross-margin") == {}


def test_infra_cost_per_active_user_is_its_change_over_the_previous_30_days(computed_kpis, acme):
    for start, cost in [(datetime.date(2023, 11, 17), 150), (datetime.date(2023, 12, 16), 250),  # before: 400
                        (datetime.date(2023, 12, 17), 350), (DAY, 250)]:  # now: 600
        CloudCostLineItemFactory(company=acme, usage_start=at(start), unblended_cost=cost)
    CloudCostLineItemFactory(company=acme, usage_start=at(DAY), product_code="AmazonS3", unblended_cost=900)  # not infra
    CloudCostLineItemFactory(company=acme, usage_start=at(DAY), product_code="AmazonRDS", unblended_cost=0)
    for day, user in [(datetime.date(2023, 11, 20), "u1"), (datetime.date(2023, 12, 1), "u2"), (datetime.date(2023, 12, 2), "u3"),
                      (datetime.date(2023, 12, 16), "u4"), (datetime.date(2023, 12, 16), "u1"),  # before: 4 users
                      (datetime.date(2023, 12, 17), "u1"), (datetime.date(2024, 1, 2), "u1"), (DAY, "u5"), (DAY, "u6")]:  # now: 3
        ActiveUserFactory(company=acme, day=day, user_id=user)

    # (600 / 3) / (400 / 4) - 1
    assert values("infra-cost-per-active-unit") == {"comp-acme": pytest.approx(100.0)}


def test_infra_cost_per_active_user_needs_a_previous_month_with_cost_and_users(computed_kpis, acme):
    CloudCostLineItemFactory(company=acme, usage_start=at(DAY), unblended_cost=100)
    ActiveUserFactory(company=acme, day=DAY)
    ActiveUserFactory(company=acme, day=datetime.date(2023, 12, 1))

    assert values("infra-cost-per-active-unit") == {}
