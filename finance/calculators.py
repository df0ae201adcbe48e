"""
The financial KPIs' formulas, registered in kpis.calculators' registry: one value per company and UTC day,
set-based SQL over the imported billing records, cloud cost line items and active users.

A "month" of revenue is the billing month containing the day (its MRR export); a "month" of cost or
users is the 30 days ending with the day (ROLLING_WINDOW), so every day has a full month of each.
"""
import datetime

from django.db.models import (
    Count,
    Exists,
    F,
    FloatField,
    OuterRef,
    Q,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Cast, Coalesce

from incidents.models import Company
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
from product.models import ActiveUser

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


def _company_total(queryset, field):
    """Per outer company: the sum of `field` over its rows of `queryset` as a float, NULL when it has none."""
    totals = queryset.filter(company=OuterRef("pk")).order_by().values("company").annotate(total=_float_sum(field))
    return Subquery(totals.values("total"), output_field=FloatField())


def _company_users(start, end):
    """Per outer company: distinct users active on the days in [start, end) (datetimes at 00:00), NULL when none."""
    users = (
        ActiveUser.objects.filter(company=OuterRef("pk"), day__gte=start.date(), day__lt=end.date())
        .order_by()
        .values("company")
        .annotate(users=Cast(Count("user_id", distinct=True), FloatField()))
    )
    return Subquery(users.values("users"), output_field=FloatField())


def _companies(company_id):
    return Company.objects.filter(_company_filter(company_id, "pk")).annotate(obs_company=F("pk"))


@calculator("net-revenue-retention", grain=DAY)
def net_revenue_retention_rows(day, company_id=None):
    """
    Trailing-twelve-month NRR of the customers paying 12 billing months before the day's month (the cohort):
    (their MRR then + their expansion - contraction - churn in the 12 months since) / their MRR then x 100.
    New customers are left out. No value until the day's month and the month a year before are imported.
    """
    month = month_of(day)
    base = months_before(month, 12)
    in_cohort = RevenueRecord.objects.filter(
        company=OuterRef("company_id"), customer_id=OuterRef("customer_id"), month=base, recurring_revenue__gt=0
    )
    month_imported = RevenueRecord.objects.filter(company=OuterRef("company_id"), month=month)
    records = RevenueRecord.objects.filter(_company_filter(company_id), month__gte=base, month__lte=month).filter(
        Exists(in_cohort), Exists(month_imported)
    )
    window = _by_company(records).annotate(
        starting_mrr=_float_sum("recurring_revenue", month=base),
        net_movements=Coalesce(
            _float_sum(F("expansion") - F("contraction") - F("churn"), month__gt=base), Value(0.0)
        ),
    )
    return _day_rows(window, day, value=percent(F("starting_mrr") + F("net_movements"), F("starting_mrr")))


@calculator("arr-growth-rate", grain=DAY)
def arr_growth_rate_rows(day, company_id=None):
    """
    Year-over-year ARR growth: (MRR of the day's billing month / MRR of the same month a year before - 1) x 100
    (ARR = 12 x MRR, so the ratio is the MRR's). No value with less than a year of billing records.
    """
    month = month_of(day)
    base = months_before(month, 12)
    records = RevenueRecord.objects.filter(_company_filter(company_id), month__in=[base, month])
    window = _by_company(records).annotate(
        mrr_now=_float_sum("recurring_revenue", month=month),
        mrr_year_ago=_float_sum("recurring_revenue", month=base),
    )
    return _day_rows(window, day, value=percent(F("mrr_now"), F("mrr_year_ago")) - Value(100.0))


@calculator("gross-margin", grain=DAY)
def gross_margin_rows(day, company_id=None):
    """
    (revenue - COGS) / revenue x 100, with revenue the MRR of the day's billing month and COGS the cloud cost
    (unblended, every line item of the AWS CUR) of the 30 days ending with the day. No value without both.
    """
    month_cost = CloudCostLineItem.objects.filter(usage_start__gte=day.end - ROLLING_WINDOW, usage_start__lt=day.end)
    companies = _companies(company_id).annotate(
        revenue=_company_total(RevenueRecord.objects.filter(month=month_of(day)), "recurring_revenue"),
        cogs=_company_total(month_cost, "unblended_cost"),
    )
    return _day_rows(companies, day, value=percent(F("revenue") - F("cogs"), F("revenue")))


@calculator("infra-cost-per-active-unit", grain=DAY)
def infra_cost_per_active_unit_rows(day, company_id=None):
    """
    Month-over-month change of the infrastructure cost per monthly active user, in percent:
    (cost_per_mau of the 30 days ending with the day / cost_per_mau of the 30 days before - 1) x 100, where
    cost_per_mau = unblended cost of EC2, EKS, RDS and ElastiCache line items / distinct active users.
    No value unless both months have cost and active users.
    """
    month_start = day.end - ROLLING_WINDOW
    previous_start = month_start - ROLLING_WINDOW
    infra = CloudCostLineItem.objects.filter(product_code__in=INFRA_PRODUCT_CODES)
    companies = _companies(company_id).annotate(
        cost_now=_company_total(infra.filter(usage_start__gte=month_start, usage_start__lt=day.end), "unblended_cost"),
        cost_before=_company_total(infra.filter(usage_start__gte=previous_start, usage_start__lt=month_start), "unblended_cost"),
        mau_now=_company_users(month_start, day.end),
        mau_before=_company_users(previous_start, month_start),
    )
    cost_per_mau_now = ratio(F("cost_now"), F("mau_now"))
    cost_per_mau_before = ratio(F("cost_before"), F("mau_before"))
    return _day_rows(companies, day, value=percent(cost_per_mau_now, cost_per_mau_before) - Value(100.0))
