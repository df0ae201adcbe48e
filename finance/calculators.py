"""
The financial KPIs' formulas, registered in kpis.calculators' registry: one value per company and UTC day,
set-based SQL over the imported billing records, cloud cost line items and active users. Each computes a run of
days in one statement.

A "month" of revenue is the billing month containing the day (its MRR export); a "month" of cost or
users is the 30 days ending with the day (ROLLING_WINDOW), so every day has a full month of each.
"""
import datetime

from django.db.models import Exists, F, FloatField, OuterRef, Q, Sum, Value
from django.db.models.functions import Cast, Coalesce

from kpis.calculators import (
    DAY,
    ROLLING_WINDOW,
    DailyTotals,
    RowsSQL,
    _by_company,
    _company_filter,
    calculator,
    day_rows_from,
    day_windows,
    growth_sql,
    percent,
    percent_sql,
    ratio_sql,
    values_sql,
)
from product.calculators import ACTIVE_USERS

from .models import CloudCostLineItem, RevenueRecord

# The products the health model's cost-per-MAU rule counts as infrastructure (EC2, EKS, RDS, ElastiCache).
INFRA_PRODUCT_CODES = ("AmazonEC2", "AmazonEKS", "AmazonRDS", "AmazonElastiCache")


def month_of(day):
    """The first day of the billing month containing the UTC day `day` (a one-day Period)."""
    return day.start.date().replace(day=1)


def months_before(month, count):
    year, month_index = divmod(month.year * 12 + month.month - 1 - count, 12)
    return datetime.date(year, month_index + 1, 1)


def _float_sum(expression, **only):
    return Cast(Sum(expression, filter=Q(**only) if only else None), FloatField())


def _cost_items(start, end, company_id):
    return CloudCostLineItem.objects.filter(_company_filter(company_id), usage_start__gte=start, usage_start__lt=end)


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


def _months_of(period):
    return sorted({month_of(day) for day in period.days()})


def _each_day_of_its_month(period, monthly, month_of_day=month_of):
    """
    Per company and day of `period` (`obs_company`, `obs_window`: the day's 00:00), the figures of the day's billing
    month `month_of_day(day)`: `monthly` is a queryset of figures per company (`obs_company`) and month (`obs_month`).
    """
    days = period.days()
    values, values_params = values_sql([(day.start, month_of_day(day)) for day in days])
    monthly_sql, monthly_params = monthly.query.sql_with_params()
    sql = f"""
        SELECT monthly.*, days.column1 AS obs_window
        FROM {values} AS days JOIN ({monthly_sql}) AS monthly ON monthly.obs_month = days.column2
    """
    return RowsSQL(sql, [*values_params, *monthly_params])


def _mrr(months, company_id):
    """Per company and billing month of `months`: the MRR (`mrr`)."""
    records = RevenueRecord.objects.filter(_company_filter(company_id), month__in=months)
    by_month = records.order_by().values(obs_company=F("company_id"), obs_month=F("month"))
    return by_month.annotate(mrr=_float_sum("recurring_revenue"))


def _net_revenue_retention(month, company_id):
    """Per company: the NRR of the billing month `month` (`nrr_pct`)."""
    base = months_before(month, 12)
    in_cohort = RevenueRecord.objects.filter(
        company=OuterRef("company_id"), customer_id=OuterRef("customer_id"), month=base, recurring_revenue__gt=0
    )
    month_imported = RevenueRecord.objects.filter(company=OuterRef("company_id"), month=month)
    records = RevenueRecord.objects.filter(_company_filter(company_id), month__gte=base, month__lte=month).filter(
        Exists(in_cohort), Exists(month_imported)
    )
    return _by_company(records).annotate(
        obs_month=Value(month),
        starting_mrr=_float_sum("recurring_revenue", month=base),
        net_movements=Coalesce(
            _float_sum(F("expansion") - F("contraction") - F("churn"), month__gt=base), Value(0.0)
        ),
        nrr_pct=percent(F("starting_mrr") + F("net_movements"), F("starting_mrr")),
    )


@calculator("net-revenue-retention", grain=DAY, many_days=True)
def net_revenue_retention_rows(period, company_id=None):
    """
    Trailing-twelve-month NRR of the customers paying 12 billing months before the day's month (the cohort):
    (their MRR then + their expansion - contraction - churn in the 12 months since) / their MRR then x 100.
    New customers are left out. No value until the day's month and the month a year before are imported.
    """
    first, *others = [_net_revenue_retention(month, company_id) for month in _months_of(period)]
    monthly = first.union(*others, all=True) if others else first
    return day_rows_from("nrr.nrr_pct", nrr=_each_day_of_its_month(period, monthly))


@calculator("arr-growth-rate", grain=DAY, many_days=True)
def arr_growth_rate_rows(period, company_id=None):
    """
    Year-over-year ARR growth: (MRR of the day's billing month / MRR of the same month a year before - 1) x 100
    (ARR = 12 x MRR, so the ratio is the MRR's). No value with less than a year of billing records.
    """
    months = _months_of(period)
    mrr = _mrr([*months, *(months_before(month, 12) for month in months)], company_id)
    return day_rows_from(
        growth_sql("mrr.mrr", "year_before.mrr"),
        mrr=_each_day_of_its_month(period, mrr),
        year_before=_each_day_of_its_month(period, mrr, lambda day: months_before(month_of(day), 12)),
    )


@calculator("gross-margin", grain=DAY, many_days=True)
def gross_margin_rows(period, company_id=None):
    """
    (revenue - COGS) / revenue x 100, with revenue the MRR of the day's billing month and COGS the cloud cost
    (unblended, every line item of the AWS CUR) of the 30 days ending with the day. No value without both.
    """
    return day_rows_from(
        percent_sql("revenue.mrr - CAST(cogs.cost AS FLOAT)", "revenue.mrr"),
        revenue=_each_day_of_its_month(period, _mrr(_months_of(period), company_id)),
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
