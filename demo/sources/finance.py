"""
Demo finance data, written as the real exports and imported through connectors.csv_import like an upload:
per company a billing system's MRR export from 12 months before `start` (so NRR and ARR growth have a value
on every demo day) and one AWS Cost and Usage Report per billing period, with daily line items from 60 days
before `start` (so cost per active user has a previous month). Deterministic for a seed; importing the same
demo twice changes nothing.
"""
import datetime
import random
import string
from collections import Counter

from connectors.csv_import import import_records
from finance.calculators import months_before
from kpis.calculators import ROLLING_WINDOW

from ..registry import demo_source

BILLING_COLUMNS = ["month", "customer_id", "plan", "mrr_usd", "new_usd", "expansion_usd", "contraction_usd", "churn_usd"]
PLANS = {"Starter": (300, 600), "Growth": (1200, 2500), "Enterprise": (5000, 12000)}

CUR_COLUMNS = [
    "identity/LineItemId", "identity/TimeInterval", "bill/BillType", "bill/PayerAccountId", "bill/BillingPeriodStartDate",
    "bill/BillingPeriodEndDate", "lineItem/UsageAccountId", "lineItem/LineItemType", "lineItem/UsageStartDate",
    "lineItem/UsageEndDate", "lineItem/ProductCode", "lineItem/UsageType", "lineItem/Operation", "lineItem/UsageAmount",
    "lineItem/CurrencyCode", "lineItem/UnblendedRate", "lineItem/UnblendedCost", "lineItem/LineItemDescription",
    "product/ProductName", "product/region", "pricing/unit", "resourceTags/user:Team",
]
# (product code, product name, usage type, operation, unit, rate in USD, share of the daily cost, team)
CUR_PRODUCTS = [
    ("AmazonEC2", "Amazon Elastic Compute Cloud", "USW2-BoxUsage:m6i.2xlarge", "RunInstances", "Hrs", 0.384, 0.38, "platform"),
    ("AmazonEC2", "Amazon Elastic Compute Cloud", "USW2-EBS:VolumeUsage.gp3", "CreateVolume-Gp3", "GB-Mo", 0.08, 0.07, "platform"),
    ("AmazonRDS", "Amazon Relational Database Service", "USW2-InstanceUsage:db.r6g.xlarge", "CreateDBInstance:0014", "Hrs",
     0.519, 0.20, "data"),
    ("AmazonEKS", "Amazon Elastic Container Service for Kubernetes", "USW2-AmazonEKS-Hours:perCluster", "CreateOperation",
     "Hours", 0.10, 0.03, "platform"),
    ("AmazonElastiCache", "Amazon ElastiCache", "USW2-NodeUsage:cache.r6g.large", "CreateCacheCluster:0002", "NodeHour",
     0.206, 0.07, "platform"),
    ("AmazonS3", "Amazon Simple Storage Service", "USW2-TimedStorage-ByteHrs", "StandardStorage", "GB-Mo", 0.023, 0.08, "data"),
    ("AWSDataTransfer", "AWS Data Transfer", "USW2-DataTransfer-Out-Bytes", "GetObject", "GB", 0.09, 0.10, "platform"),
    ("AmazonCloudWatch", "AmazonCloudWatch", "USW2-CW:MetricMonitorUsage", "MetricStorage", "Metrics", 0.30, 0.07, "sre"),
]
ONE_DAY = datetime.timedelta(days=1)


@demo_source("finance", order=50)
def seed_finance(companies, start, end, seed):
    """Import a demo MRR export and demo CUR files for each company over [start, end); returns counts."""
    summary = Counter()
    first_month = months_before(start.date().replace(day=1), 12)
    last_day = (end - datetime.timedelta(microseconds=1)).date()
    for company in companies:
        rng = random.Random(f"{seed}:finance:{company.slug}")
        rows, mrr_by_month = _billing_rows(rng, first_month, last_day.replace(day=1))
        summary["revenue records"] += import_records("billing", company, BILLING_COLUMNS, rows)
        cost_share = rng.uniform(0.22, 0.3)  # cloud cost / revenue: a 70-78 % gross margin
        first_day = (start - 2 * ROLLING_WINDOW).date()
        for period_start, days in _billing_periods(first_day, last_day):
            rows = _cur_rows(rng, company, period_start, days, mrr_by_month, cost_share)
            summary["cloud cost line items"] += import_records("cloud-cost", company, CUR_COLUMNS, rows)
    return dict(summary)


def _next_month(month):
    return (month + datetime.timedelta(days=31)).replace(day=1)


def _billing_rows(rng, first_month, last_month):
    """A customer base growing by new customers and net expansion: MRR export rows, and the MRR total per month."""
    expansion_rate, churn_rate = rng.uniform(0.05, 0.09), rng.uniform(0.006, 0.015)
    customers = {}  # id -> (plan, mrr)
    for _ in range(rng.randint(35, 50)):
        _new_customer(rng, customers)
    rows, totals, month = [], {}, first_month
    while month <= last_month:
        joined = set()
        for _ in range(int(rng.random() < 0.7) + int(rng.random() < 0.2)):
            customer_id, (plan, mrr) = _new_customer(rng, customers)
            joined.add(customer_id)
            rows.append(_billing_row(month, customer_id, plan, mrr, new=mrr))
        for customer_id, (plan, mrr) in list(customers.items()):
            if customer_id in joined:
                continue
            draw = rng.random()
            if draw < churn_rate:
                del customers[customer_id]
                rows.append(_billing_row(month, customer_id, plan, 0, churn=mrr))
                continue
            moved = {}
            if draw < churn_rate + expansion_rate:
                moved["expansion"] = round(mrr * rng.uniform(0.1, 0.4), 2)
            elif draw < churn_rate + expansion_rate + 0.02:
                moved["contraction"] = round(mrr * rng.uniform(0.1, 0.3), 2)
            mrr = round(mrr + moved.get("expansion", 0) - moved.get("contraction", 0), 2)
            customers[customer_id] = (plan, mrr)
            rows.append(_billing_row(month, customer_id, plan, mrr, **moved))
        totals[month] = sum(mrr for _, mrr in customers.values())
        month = _next_month(month)
    return rows, totals


def _new_customer(rng, customers):
    plan = rng.choices(list(PLANS), weights=[5, 4, 1])[0]
    customer_id = "cus_" + "".join(rng.choices(string.ascii_letters + string.digits, k=14))
    customers[customer_id] = (plan, round(rng.uniform(*PLANS[plan]), 2))
    return customer_id, customers[customer_id]


def _billing_row(month, customer_id, plan, mrr, new=0, expansion=0, contraction=0, churn=0):
    return {
        "month": f"{month:%Y-%m}", "customer_id": customer_id, "plan": plan, "mrr_usd": f"{mrr:.2f}", "new_usd": f"{new:.2f}",
        "expansion_usd": f"{expansion:.2f}", "contraction_usd": f"{contraction:.2f}", "churn_usd": f"{churn:.2f}",
    }


def _billing_periods(first_day, last_day):
    """(first day of the billing period, its days in [first_day, last_day]) per calendar month."""
    periods, day = {}, first_day
    while day <= last_day:
        periods.setdefault(day.replace(day=1), []).append(day)
        day += ONE_DAY
    return periods.items()


def _cur_rows(rng, company, period_start, days, mrr_by_month, cost_share):
    """One billing period's CUR rows: each product's daily line item, its cost following the month's revenue."""
    account = f"{int.from_bytes(company.slug.encode(), 'big') % 10**12:012d}"
    period_end = _next_month(period_start)
    daily_cost = mrr_by_month[period_start] * cost_share / 30
    rows = []
    for day in days:
        usage_start, usage_end = f"{day:%Y-%m-%d}T00:00:00Z", f"{day + ONE_DAY:%Y-%m-%d}T00:00:00Z"
        weekday_load = 1.0 if day.weekday() < 5 else 0.85
        for code, name, usage_type, operation, unit, rate, share, team in CUR_PRODUCTS:
            cost = daily_cost * share * weekday_load * rng.uniform(0.93, 1.07)
            rows.append({
                "identity/LineItemId": "".join(rng.choices(string.ascii_lowercase + "234567", k=52)),
                "identity/TimeInterval": f"{usage_start}/{usage_end}",
                "bill/BillType": "Anniversary",
                "bill/PayerAccountId": account,
                "bill/BillingPeriodStartDate": f"{period_start:%Y-%m-%d}T00:00:00Z",
                "bill/BillingPeriodEndDate": f"{period_end:%Y-%m-%d}T00:00:00Z",
                "lineItem/UsageAccountId": account,
                "lineItem/LineItemType": "Usage",
                "lineItem/UsageStartDate": usage_start,
                "lineItem/UsageEndDate": usage_end,
                "lineItem/ProductCode": code,
                "lineItem/UsageType": usage_type,
                "lineItem/Operation": operation,
                "lineItem/UsageAmount": f"{cost / rate:.6f}",
                "lineItem/CurrencyCode": "USD",
                "lineItem/UnblendedRate": f"{rate}",
                "lineItem/UnblendedCost": f"{cost:.10f}",
                "lineItem/LineItemDescription": f"${rate} per {unit} of {usage_type}",
                "product/ProductName": name,
                "product/region": "us-west-2",
                "pricing/unit": unit,
                "resourceTags/user:Team": team,
            })
    return rows
