"""
The product-adoption KPIs' formulas, registered in kpis.calculators' registry: one value per company and
UTC day, set-based SQL over the imported active users and feature-flag evaluations. Each computes a run of days
in one statement.

The seed's "growing month over month" KPIs compare the month ending with the day (the 30 days of
ROLLING_WINDOW) with the 30 days before it.
"""
import datetime

from django.db.models import Count, Q, Sum

from kpis.calculators import DAY, ROLLING_WINDOW, calculator, computed_from
from kpis.calculators.toolkit import (
    DailyTotals,
    DistinctCounts,
    company_filter,
    day_rows_from,
    day_windows,
    growth_sql,
    percent_sql,
    ratio_sql,
)

from .models import ActiveUser, FeatureFlagEvaluation

computed_from(
    __name__,
    "active users and feature-flag evaluations: import them as CSV at /api/imports/active-users/ and /api/imports/feature-flags/",
)

WEEK = datetime.timedelta(days=7)


def _days(start, end):
    """The DateField days in [start, end) (aware datetimes at 00:00 UTC)."""
    return Q(day__gte=start.date(), day__lt=end.date())


def _active_users(start, end, company_id):
    return ActiveUser.objects.filter(company_filter(company_id), _days(start, end))


# The distinct users active in a window.
ACTIVE_USERS = DistinctCounts(counted=_active_users, time_field="day", field="user_id", name="users")

# The distinct tenants with an active user, per company and day, and their mean over the days with activity data.
ACTIVE_TENANTS = DailyTotals(
    counted=_active_users,
    time_field="day",
    totals={"tenants": Count("tenant_id", distinct=True), "active_days": Count("day", distinct=True)},
    figures={"mean_dau": ratio_sql("tenants", "active_days")},
    window=ROLLING_WINDOW,
)


@calculator("active-tenants", grain=DAY, many_days=True)
def active_tenants_rows(period, company_id=None, group=None):
    """
    Month-over-month growth of daily active tenants, in percent: (mean DAU of the 30 days ending with the day /
    mean DAU of the 30 days before - 1) x 100, where DAU is the distinct tenants with an active user that day
    and the mean is over the days with activity data. No value unless both months have data.
    """
    return day_rows_from(
        growth_sql("month.mean_dau", "month_before.mean_dau"),
        month=ACTIVE_TENANTS.sql(day_windows(period, ROLLING_WINDOW), company_id, group),
        month_before=ACTIVE_TENANTS.sql(day_windows(period, ROLLING_WINDOW, earlier=ROLLING_WINDOW), company_id, group),
    )


@calculator("weekly-active-users", grain=DAY, many_days=True)
def weekly_active_users_rows(period, company_id=None, group=None):
    """
    Month-over-month growth of weekly active users, in percent: (distinct users active in the 7 days ending
    with the day / distinct users active in the 7 days ending 30 days earlier - 1) x 100. No value unless
    both weeks have active users.
    """
    return day_rows_from(
        growth_sql("week.users", "week_before.users"),
        week=ACTIVE_USERS.sql(day_windows(period, WEEK), company_id, group),
        week_before=ACTIVE_USERS.sql(day_windows(period, WEEK, earlier=ROLLING_WINDOW), company_id, group),
    )


def _flag_evaluations(start, end, company_id):
    return FeatureFlagEvaluation.objects.filter(company_filter(company_id), _days(start, end))


# The contexts the key features' flags were evaluated for, per company and day: all, and those served a variation
# that turns the feature on (daily distinct contexts summed over the flags and days).
FLAG_CONTEXTS = DailyTotals(
    counted=_flag_evaluations,
    time_field="day",
    totals={"enabled_contexts": Sum("contexts", filter=Q(enabled=True)), "all_contexts": Sum("contexts")},
    figures={"adoption_pct": percent_sql("COALESCE(enabled_contexts, 0)", "all_contexts")},
    window=ROLLING_WINDOW,
)


@calculator("feature-adoption-rate", grain=DAY, many_days=True)
def feature_adoption_rate_rows(period, company_id=None, group=None):
    """
    Share of users served the key features, in percent, over the 30 days ending with the day: contexts served
    a variation that turns a key feature on / all contexts evaluated for the key features' flags x 100
    (daily distinct contexts summed over the flags and days; every imported flag is a key feature's).
    """
    return FLAG_CONTEXTS.day_rows(period, company_id, "adoption_pct", group)
