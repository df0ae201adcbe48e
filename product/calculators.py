"""
The product-adoption KPIs' formulas, registered in kpis.calculators' registry: one value per company and
UTC day, set-based SQL over the imported active users and feature-flag evaluations.

The seed's "growing month over month" KPIs compare the month ending with the day (the 30 days of
ROLLING_WINDOW) with the 30 days before it.
"""
import datetime

from django.db.models import CharField, Count, F, Q, Sum, Value
from django.db.models.functions import Coalesce, Concat, NullIf

from kpis.calculators import (
    DAY,
    ROLLING_WINDOW,
    _by_company,
    _company_filter,
    _day_rows,
    calculator,
    percent,
    ratio,
)

from .models import ActiveUser, FeatureFlagEvaluation

WEEK = datetime.timedelta(days=7)


def _days(start, end):
    """The DateField days in [start, end) (aware datetimes at 00:00 UTC)."""
    return Q(day__gte=start.date(), day__lt=end.date())


def _growth(now, before):
    """(now / before - 1) x 100; NULL when either is NULL or `before` is 0."""
    return percent(now, before) - Value(100.0)


@calculator("active-tenants", grain=DAY)
def active_tenants_rows(day, company_id=None):
    """
    Month-over-month growth of daily active tenants, in percent: (mean DAU of the 30 days ending with the day /
    mean DAU of the 30 days before - 1) x 100, where DAU is the distinct tenants with an active user that day
    and the mean is over the days with activity data. No value unless both months have data.
    """
    month_start = day.end - ROLLING_WINDOW
    now, before = _days(month_start, day.end), _days(month_start - ROLLING_WINDOW, month_start)
    tenant_day = Concat("day", Value(" "), "tenant_id", output_field=CharField())
    users = ActiveUser.objects.filter(_company_filter(company_id), _days(month_start - ROLLING_WINDOW, day.end))
    window = _by_company(users).annotate(
        tenant_days_now=Count(tenant_day, distinct=True, filter=now),
        days_now=Count("day", distinct=True, filter=now),
        tenant_days_before=Count(tenant_day, distinct=True, filter=before),
        days_before=Count("day", distinct=True, filter=before),
    )
    mean_dau_now = ratio(F("tenant_days_now"), F("days_now"))
    mean_dau_before = ratio(F("tenant_days_before"), F("days_before"))
    return _day_rows(window, day, value=_growth(mean_dau_now, mean_dau_before))


@calculator("weekly-active-users", grain=DAY)
def weekly_active_users_rows(day, company_id=None):
    """
    Month-over-month growth of weekly active users, in percent: (distinct users active in the 7 days ending
    with the day / distinct users active in the 7 days ending 30 days earlier - 1) x 100. No value unless
    both weeks have active users.
    """
    week_before_end = day.end - ROLLING_WINDOW
    now, before = _days(day.end - WEEK, day.end), _days(week_before_end - WEEK, week_before_end)
    users = ActiveUser.objects.filter(_company_filter(company_id), now | before)
    window = _by_company(users).annotate(
        wau_now=Count("user_id", distinct=True, filter=now),
        wau_before=Count("user_id", distinct=True, filter=before),
    )
    return _day_rows(window, day, value=_growth(NullIf(F("wau_now"), Value(0)), F("wau_before")))


@calculator("feature-adoption-rate", grain=DAY)
def feature_adoption_rate_rows(day, company_id=None):
    """
    Share of users served the key features, in percent, over the 30 days ending with the day: contexts served
    a variation that turns a key feature on / all contexts evaluated for the key features' flags x 100
    (daily distinct contexts summed over the flags and days; every imported flag is a key feature's).
    """
    evaluations = FeatureFlagEvaluation.objects.filter(_company_filter(company_id), _days(day.end - ROLLING_WINDOW, day.end))
    window = _by_company(evaluations).annotate(
        enabled_contexts=Coalesce(Sum("contexts", filter=Q(enabled=True)), 0),
        all_contexts=Sum("contexts"),
    )
    return _day_rows(window, day, value=percent(F("enabled_contexts"), F("all_contexts")))
