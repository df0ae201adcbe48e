"""The product calculators against values computed by hand from imported rows."""
import datetime

import pytest

from kpis.choices import ObservationSource
from kpis.models import Observation
from kpis.observations import compute_observations
from tests.product.factories import ActiveUserFactory, FeatureFlagEvaluationFactory
from tests.tenancy.factories import CompanyFactory

DAY = datetime.date(2024, 1, 15)


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


def test_active_tenants_is_the_growth_of_mean_daily_active_tenants_month_over_month(computed_kpis, acme):
    for day, tenant, user in [
        (datetime.date(2023, 12, 1), "t1", "u1"), (datetime.date(2023, 12, 1), "t1", "u2"), (datetime.date(2023, 12, 1), "t2", "u3"),
        (datetime.date(2023, 12, 2), "t1", "u1"),  # before: 2 and 1 tenants, mean 1.5
        (datetime.date(2024, 1, 14), "t1", "u1"), (datetime.date(2024, 1, 14), "t2", "u3"), (datetime.date(2024, 1, 14), "t3", "u4"),
        (DAY, "t1", "u1"), (DAY, "t2", "u3"), (DAY, "t2", "u5"),  # now: 3 and 2 tenants, mean 2.5
        (datetime.date(2024, 1, 16), "t4", "u6"),  # after the day
    ]:
        ActiveUserFactory(company=acme, day=day, tenant_id=tenant, user_id=user)

    assert values("active-tenants") == {"comp-acme": pytest.approx((2.5 / 1.5 - 1) * 100)}


def test_weekly_active_users_compares_the_week_ending_with_the_day_with_the_week_30_days_earlier(computed_kpis, acme):
    for day, user in [
        (datetime.date(2023, 12, 9), "u9"),  # before the earlier week
        (datetime.date(2023, 12, 10), "u1"), (datetime.date(2023, 12, 16), "u2"), (datetime.date(2023, 12, 16), "u1"),  # 2 users
        (datetime.date(2023, 12, 17), "u7"), (datetime.date(2024, 1, 8), "u8"),  # between the weeks
        (datetime.date(2024, 1, 9), "u1"), (datetime.date(2024, 1, 12), "u2"), (DAY, "u3"), (DAY, "u1"),  # 3 users
    ]:
        ActiveUserFactory(company=acme, day=day, user_id=user)

    assert values("weekly-active-users") == {"comp-acme": pytest.approx(50.0)}


def test_weekly_active_users_of_a_run_of_days_count_each_user_once_a_week(computed_kpis, acme):
    # The weeks of Jan 15, 16, 17 are Jan 9-15, 10-16, 11-17; the weeks 30 days earlier Dec 10-16, 11-17, 12-18.
    for day, tenant, user in [
        ((2023, 12, 10), "t1", "u1"), ((2023, 12, 11), "t1", "u4"), ((2023, 12, 11), "t2", "u4"),
        ((2023, 12, 12), "t1", "u2"), ((2023, 12, 16), "t1", "u2"), ((2023, 12, 18), "t1", "u3"),  # 3, 2 and 2 users
        ((2024, 1, 9), "t1", "u1"), ((2024, 1, 10), "t1", "u6"), ((2024, 1, 14), "t1", "u1"),
        ((2024, 1, 16), "t1", "u5"), ((2024, 1, 16), "t2", "u5"), ((2024, 1, 17), "t1", "u7"),
        ((2024, 1, 17), "t1", "u8"),  # 2, 3 and 4 users
    ]:
        ActiveUserFactory(company=acme, day=datetime.date(*day), tenant_id=tenant, user_id=user)

    assert run_values("weekly-active-users", datetime.date(2024, 1, 15), datetime.date(2024, 1, 18)) == {
        datetime.date(2024, 1, 15): pytest.approx((2 / 3 - 1) * 100),
        datetime.date(2024, 1, 16): pytest.approx(50.0),
        datetime.date(2024, 1, 17): pytest.approx(100.0),
    }


def test_weekly_active_users_have_no_value_without_activity_in_the_week(computed_kpis, acme):
    ActiveUserFactory(company=acme, day=datetime.date(2023, 12, 12))

    assert values("weekly-active-users") == {}


def test_feature_adoption_is_the_share_of_contexts_served_an_enabled_variation_over_30_days(computed_kpis, acme):
    for day, flag, enabled, contexts in [
        (datetime.date(2023, 12, 17), "new-checkout", True, 30), (DAY, "new-checkout", True, 30),
        (DAY, "new-checkout", False, 40),
        (DAY, "bulk-export", True, 10), (datetime.date(2024, 1, 2), "bulk-export", False, 90),
        (datetime.date(2023, 12, 16), "bulk-export", True, 500),  # before the 30 days
    ]:
        FeatureFlagEvaluationFactory(company=acme, day=day, flag_key=flag, variation=str(enabled).lower(), enabled=enabled,
                                     contexts=contexts)

    # (30 + 30 + 10) / (30 + 30 + 40 + 10 + 90)
    assert values("feature-adoption-rate") == {"comp-acme": pytest.approx(35.0)}


def test_feature_adoption_without_any_enabled_variation_is_zero(computed_kpis, acme):
    FeatureFlagEvaluationFactory(company=acme, day=DAY, variation="false", enabled=False)

    assert values("feature-adoption-rate") == {"comp-acme": 0.0}


def test_each_company_is_computed_from_its_own_rows(computed_kpis, acme):
    globex = CompanyFactory(slug="comp-globex")
    FeatureFlagEvaluationFactory(company=acme, day=DAY, enabled=True, contexts=10)
    FeatureFlagEvaluationFactory(company=acme, day=DAY, variation="false", enabled=False, contexts=30)
    FeatureFlagEvaluationFactory(company=globex, day=DAY, enabled=True, contexts=10)

    assert values("feature-adoption-rate") == {"comp-acme": 25.0, "comp-globex": 100.0}
    Observation.objects.all().delete()
    assert values("feature-adoption-rate", company=globex) == {"comp-globex": 100.0}
