"""
The financial KPIs' formulas, registered in kpis.calculators' registry: one value per company and UTC day,
set-based SQL over the imported billing records, cloud cost line items and active users. Each computes a run of
days in one statement.

A "month" of revenue is the billing month containing the day (its MRR export); a "month" of cost or
users is the 30 days ending with the day (ROLLING_WINDOW), so every day has a full month of each.
"""
import datetime

from django.db.models import DateTimeField, Exists, F, FloatField, OuterRef, Q, Sum, Value
from django.db.models.functions import Cast, Coalesce

from kpis.calculators import DAY, Period, ROLLING_WINDOW, calculator, computed_from
from kpis.calculators.toolkit import (
    DAY_IN_WINDOW,
    DailyTotals,
    RowsInWindows,
    by_company,
    company_filter,
    day_rows_from,
    day_windows,
    growth_sql,
    percent,
    percent_sql,
    ratio_sql,
)
from product.calculators import ACTIVE_USERS

from .models import CloudCostLineItem, RevenueRecord

computed_from(
    __name__, "billing and cloud cost exports: import them as CSV at /api/imports/billing/ and /api/imports/cloud-cost/"
)

# The products the health model's cost-per-MAU rule counts as infrastructure (EC2, EKS, RDS, ElastiCache).
INFRA_PRODUCT_CODES = ("AmazonEC2", "AmazonEKS", "AmazonRDS", "AmazonElastiCache")


def months_before(month, count):
    """The first day of the month `count` months before `month` (after it, for a negative count)."""
    year, month_index = divmod(month.year * 12 + month.month - 1 - count, 12)
    return datetime.date(year, month_index + 1, 1)


def billing_months(period, months_back=0):
    """Each day of `period` as a window (its 00:00, start, end): its billing month, or the one `months_back` before."""
    windows = []
    for day in period.days():
        month = months_before(day.start.date().replace(day=1), months_back)
        windows.append((day.start, Period.of_day(month).start, Period.of_day(months_before(month, -1)).start))
    return windows


def _float_sum(expression, **only):
    return Cast(Sum(expression, filter=Q(**only) if only else None), FloatField())


def _cost_items(start, end, company_id):
    return CloudCostLineItem.objects.filter(company_filter(company_id), usage_start__gte=start, usage_start__lt=end)


# The cloud cost (unblended, every line item of the AWS CUR) per company and UTC day, and its infrastructure's.
CLOUD_COST = DailyTotals(
    counted=_cost_items,
    time_field="usage_start",
    totals={
        "cost": Sum("unblended_cost"),
        "infra_cost": Sum("unblended_cost", filter=Q(product_code__in=INFRA_PRODUCT_CODES)),
    },
    figures={},
    window=ROLLING_WINDOW,
)


def _revenue_records(start, end, company_id):
    return RevenueRecord.objects.filter(company_filter(company_id), month__gte=start.date(), month__lt=end.date())


# The MRR (`mrr`) per company and billing month, over windows of billing months.
MRR = DailyTotals(
    counted=_revenue_records, time_field="month", totals={"mrr": _float_sum("recurring_revenue")}, figures={}
)


def _net_revenue_retention(month, company_id):
    """Per company: the NRR of the billing month `month` (`nrr_pct`), at the month's first day (`obs_day`)."""
    base = months_before(month, 12)
    in_cohort = RevenueRecord.objects.filter(
        company=OuterRef("company_id"), customer_id=OuterRef("customer_id"), month=base, recurring_revenue__gt=0
    )
    month_imported = RevenueRecord.objects.filter(company=OuterRef("company_id"), month=month)
    records = RevenueRecord.objects.filter(company_filter(company_id), month__gte=base, month__lte=month).filter(
        Exists(in_cohort), Exists(month_imported)
    )
    return by_company(records).annotate(
        obs_day=Value(Period.of_day(month).start, output_field=DateTimeField()),
        starting_mrr=_float_sum("recurring_revenue", month=base),
        net_movements=Coalesce(
            _float_sum(F("expansion") - F("contraction") - F("churn"), month__gt=base), Value(0.0)
        ),
        nrr_pct=percent(F("starting_mrr") + F("net_movements"), F("starting_mrr")),
    )


def _monthly_net_revenue_retention(start, end, company_id):
    """The NRR per company of each billing month starting in [start, end), a query per month."""
    month, months = start.date(), []
    while Period.of_day(month).start < end:
        months.append(month)
        month = months_before(month, -1)
    first, *others = [_net_revenue_retention(month, company_id) for month in months]
    return first.union(*others, all=True) if others else first


# The NRR (`nrr_pct`) per company and billing month, over windows of billing months (one value per window).
NET_REVENUE_RETENTION = RowsInWindows(
    counted=_monthly_net_revenue_retention,
    within=DAY_IN_WINDOW,
    totals={"nrr_pct": "MAX(counted.nrr_pct)"},
    figures={},
)


@calculator("net-revenue-retention", grain=DAY, many_days=True)
def net_revenue_retention_rows(period, company_id=None):
    """
    Trailing-twelve-month NRR of the customers paying 12 billing months before the day's month (the cohort):
    (their MRR then + their expansion - contraction - churn in the 12 months since) / their MRR then x 100.
    New customers are left out. No value until the day's month and the month a year before are imported.
    """
    return day_rows_from("nrr.nrr_pct", nrr=NET_REVENUE_RETENTION.sql(billing_months(period), company_id))


@calculator("arr-growth-rate", grain=DAY, many_days=True)
def arr_growth_rate_rows(period, company_id=None):
    """
    Year-over-year ARR growth: (MRR of the day's billing month / MRR of the same month a year before - 1) x 100
    (ARR = 12 x MRR, so the ratio is the MRR's). No value with less than a year of billing records.
    """
    return day_rows_from(
        growth_sql("mrr.mrr", "year_before.mrr"),
        mrr=MRR.sql(billing_months(period), company_id),
        year_before=MRR.sql(billing_months(period, 12), company_id),
    )


@calculator("gross-margin", grain=DAY, many_days=True)
def gross_margin_rows(period, company_id=None):
    """
    (revenue - COGS) / revenue x 100, with revenue the MRR of the day's billing month and COGS the cloud cost
    (unblended, every line item of the AWS CUR) of the 30 days ending with the day. No value without both.
    """
    return day_rows_from(
        percent_sql("revenue.mrr - CAST(cogs.cost AS FLOAT)", "revenue.mrr"),
        revenue=MRR.sql(billing_months(period), company_id),
        cogs=CLOUD_COST.sql(day_windows(period, ROLLING_WINDOW), company_id),
    )


@calculator("infra-cost-per-active-unit", grain=DAY, many_days=True)
def infra_cost_per_active_unit_rows(period, company_id=None):
    """
    Month-over-month change of the infrastructure cost per monthly active user, in percent:
    (cost_per_mau of the 30 days ending with the day / cost_per_mau of the 30 days before - 1) x 100, where
    cost_per_mau = unblended cost of EC2, EKS, RDS and ElastiCache line items / distinct active users.
    No value unless both months have cost and active users.
    """
    month = day_windows(period, ROLLING_WINDOW)
    month_before = day_windows(period, ROLLING_WINDOW, earlier=ROLLING_WINDOW)
    cost_per_user = ratio_sql("cost.infra_cost", "users.users")
    cost_per_user_before = ratio_sql("cost_before.infra_cost", "users_before.users")
    return day_rows_from(
        growth_sql(cost_per_user, cost_per_user_before),
        cost=CLOUD_COST.sql(month, company_id),
        users=ACTIVE_USERS.sql(month, company_id),
        cost_before=CLOUD_COST.sql(month_before, company_id),
        users_before=ACTIVE_USERS.sql(month_before, company_id),
    )
