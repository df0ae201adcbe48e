"""
The finance CSV imports: a billing system's MRR export and the AWS Cost and Usage Report (CUR).
Each row is validated by the schema below (columns as the file names them); connectors.csv_import reads,
refuses or applies the file.
"""
import datetime
from decimal import ROUND_HALF_UP

from django.utils.dateparse import parse_datetime
from rest_framework import serializers

from connectors.choices import EventSource
from connectors.csv_import import CsvKind, register

from .models import CloudCostLineItem, RevenueRecord

# CUR line item types whose unblended cost is negative by nature; any other type must not be.
CREDIT_LINE_ITEM_TYPES = {
    "Credit", "Refund", "Discount", "BundledDiscount", "EdpDiscount", "PrivateRateDiscount", "DistributorDiscount",
    "SavingsPlanNegation",
}


class MonthField(serializers.Field):
    """A month as YYYY-MM, or any date of it as YYYY-MM-DD; stored as its first day."""

    default_error_messages = {"invalid": "Enter a month as YYYY-MM (or a date of it, YYYY-MM-DD)."}

    def to_internal_value(self, data):
        for pattern in ("%Y-%m", "%Y-%m-%d"):
            try:
                return datetime.datetime.strptime(data, pattern).date().replace(day=1)
            except ValueError:
                continue
        self.fail("invalid")

    def to_representation(self, value):
        return f"{value:%Y-%m}"


def usd(**kwargs):
    """An amount in USD, rounded to cents, not negative."""
    return serializers.DecimalField(
        max_digits=14, decimal_places=2, rounding=ROUND_HALF_UP, min_value=0,
        error_messages={"min_value": "Not negative: amounts lost (contraction, churn) are given as positive numbers."},
        **kwargs,
    )


class RevenueRow(serializers.Serializer):
    """One customer's month of a billing system's MRR export."""

    month = MonthField()
    customer_id = serializers.CharField(max_length=200)
    mrr_usd = usd(source="recurring_revenue")
    new_usd = usd(source="new")
    expansion_usd = usd(source="expansion")
    contraction_usd = usd(source="contraction")
    churn_usd = usd(source="churn")


class TimeIntervalField(serializers.CharField):
    """identity/TimeInterval: two UTC timestamps, start/end, the end after the start; kept as written."""

    default_error_messages = {"interval": "Enter start/end as YYYY-MM-DDTHH:mm:ssZ/YYYY-MM-DDTHH:mm:ssZ, the end after the start."}

    def to_internal_value(self, data):
        interval = super().to_internal_value(data)
        start, _, end = interval.partition("/")
        try:
            start, end = parse_datetime(start), parse_datetime(end)
        except ValueError:
            self.fail("interval")
        if start is None or end is None or end <= start:
            self.fail("interval")
        return interval


class CurLineItemRow(serializers.Serializer):
    """One line item of an AWS Cost and Usage Report (legacy CUR CSV, `category/Column` headers)."""

    def get_fields(self):
        return {
            "identity/LineItemId": serializers.CharField(source="line_item_id", max_length=100),
            "identity/TimeInterval": TimeIntervalField(source="time_interval", max_length=50),
            "bill/BillingPeriodStartDate": serializers.DateTimeField(source="billing_period_start"),
            "lineItem/UsageAccountId": serializers.RegexField(
                r"^\d{12}$", source="usage_account_id", error_messages={"invalid": "An AWS account ID is 12 digits."}
            ),
            "lineItem/LineItemType": serializers.CharField(source="line_item_type", max_length=50),
            "lineItem/UsageStartDate": serializers.DateTimeField(source="usage_start"),
            "lineItem/UsageEndDate": serializers.DateTimeField(source="usage_end"),
            "lineItem/ProductCode": serializers.CharField(source="product_code", max_length=100),
            "lineItem/UsageType": serializers.CharField(source="usage_type", max_length=200, required=False, default=""),
            "lineItem/UnblendedCost": serializers.DecimalField(
                source="unblended_cost", max_digits=24, decimal_places=10, rounding=ROUND_HALF_UP
            ),
            "lineItem/CurrencyCode": serializers.ChoiceField(
                source="currency", choices=["USD"],
                error_messages={"invalid_choice": "\"{input}\": only USD is imported, the currency revenue is compared in."},
            ),
            "product/ProductName": serializers.CharField(source="product_name", max_length=200, required=False, default=""),
        }

    def validate(self, attrs):
        errors = {}
        if attrs["usage_end"] < attrs["usage_start"]:
            errors["lineItem/UsageEndDate"] = "The usage ends before it starts (lineItem/UsageStartDate)."
        if attrs["unblended_cost"] < 0 and attrs["line_item_type"] not in CREDIT_LINE_ITEM_TYPES:
            errors["lineItem/UnblendedCost"] = (
                f"Negative, but a {attrs['line_item_type']} line item is a cost; only credits, refunds and discounts are negative."
            )
        if errors:
            raise serializers.ValidationError(errors)
        return attrs


BILLING = register(CsvKind(
    name="billing",
    source=EventSource.BILLING_CSV,
    label="Billing revenue (MRR export)",
    model=RevenueRecord,
    row_schema=RevenueRow,
    key=("customer_id", "month"),
    replaces=("month",),
    help_text=(
        "A billing system's MRR export, one row per customer and month, amounts in USD: month (YYYY-MM), "
        "customer_id, mrr_usd (the customer's monthly recurring revenue at the month), and the month's movements "
        "new_usd, expansion_usd, contraction_usd, churn_usd (amounts lost as positive numbers). "
        "The file restates its months: importing it replaces the company's records of those months."
    ),
))

CLOUD_COST = register(CsvKind(
    name="cloud-cost",
    source=EventSource.CLOUD_COST_CSV,
    label="Cloud cost (AWS Cost and Usage Report)",
    model=CloudCostLineItem,
    row_schema=CurLineItemRow,
    key=("line_item_id", "time_interval"),
    replaces=("billing_period_start", "usage_account_id"),
    help_text=(
        "An AWS Cost and Usage Report CSV file as AWS delivers it (hourly, daily or monthly), in USD. Read: "
        "identity/LineItemId, identity/TimeInterval, bill/BillingPeriodStartDate, lineItem/UsageAccountId, "
        "lineItem/LineItemType, lineItem/UsageStartDate, lineItem/UsageEndDate, lineItem/ProductCode, "
        "lineItem/UsageType, lineItem/UnblendedCost, lineItem/CurrencyCode, product/ProductName; other columns "
        "are ignored. Each report restates its billing period: importing it replaces the company's line items "
        "of that billing period and usage account."
    ),
))
