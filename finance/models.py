"""
Financial data imported from files: monthly recurring revenue per customer (a billing system's MRR
export) and cloud cost line items (the AWS Cost and Usage Report). Each row keeps the uploaded file it
came from (connectors.SourceEvent), which a later export of the same period replaces.
"""
from django.db import models
from django.db.models import F, Q

MONEY = {"max_digits": 14, "decimal_places": 2}


class RevenueRecord(models.Model):
    """
    One customer's month of a billing system's MRR export: the recurring revenue at the month and its
    movements during it (new, expansion, contraction, churn), all in USD and non-negative.
    """

    company = models.ForeignKey("tenancy.Company", on_delete=models.CASCADE, related_name="revenue_records")
    customer_id = models.CharField(max_length=200)
    month = models.DateField(help_text="The month's first day.")
    recurring_revenue = models.DecimalField(**MONEY, help_text="Monthly recurring revenue (MRR) at the month, USD.")
    new = models.DecimalField(**MONEY, help_text="MRR of a customer new this month, USD.")
    expansion = models.DecimalField(**MONEY, help_text="MRR added by upgrades this month, USD.")
    contraction = models.DecimalField(**MONEY, help_text="MRR lost to downgrades this month, USD.")
    churn = models.DecimalField(**MONEY, help_text="MRR lost to cancellation this month, USD.")
    source_event = models.ForeignKey(
        "connectors.SourceEvent", on_delete=models.RESTRICT, related_name="revenue_records",
        help_text="The uploaded file this row came from.",
    )

    class Meta:
        ordering = ["company", "month", "customer_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["company", "customer_id", "month"],
                name="%(app_label)s_%(class)s_unique_customer_month",
                violation_error_message="This customer already has a record for this month.",
            ),
            models.CheckConstraint(
                condition=Q(recurring_revenue__gte=0, new__gte=0, expansion__gte=0, contraction__gte=0, churn__gte=0),
                name="%(app_label)s_%(class)s_amounts_not_negative",
                violation_error_message="Revenue amounts are not negative (churn and contraction are amounts lost).",
            ),
        ]
        indexes = [models.Index(fields=["company", "month"])]

    def __str__(self):
        return f"{self.customer_id} {self.month:%Y-%m}: {self.recurring_revenue} USD"


class CloudCostLineItem(models.Model):
    """
    One line item of an AWS Cost and Usage Report: a cost (or, for credits, refunds and discounts, a
    negative amount) for one product and usage type in a usage period, in the report's currency.
    """

    company = models.ForeignKey("tenancy.Company", on_delete=models.CASCADE, related_name="cloud_cost_line_items")
    line_item_id = models.CharField(max_length=100, help_text="identity/LineItemId: unique within one report file.")
    time_interval = models.CharField(max_length=50, help_text="identity/TimeInterval, as in the report.")
    billing_period_start = models.DateTimeField(help_text="bill/BillingPeriodStartDate.")
    usage_account_id = models.CharField(max_length=12, help_text="lineItem/UsageAccountId.")
    line_item_type = models.CharField(max_length=50, help_text="lineItem/LineItemType, e.g. Usage, Tax, Credit.")
    usage_start = models.DateTimeField(help_text="lineItem/UsageStartDate.")
    usage_end = models.DateTimeField(help_text="lineItem/UsageEndDate.")
    product_code = models.CharField(max_length=100, help_text="lineItem/ProductCode, e.g. AmazonEC2.")
    product_name = models.CharField(max_length=200, blank=True, help_text="product/ProductName.")
    usage_type = models.CharField(max_length=200, blank=True, help_text="lineItem/UsageType.")
    unblended_cost = models.DecimalField(max_digits=24, decimal_places=10, help_text="lineItem/UnblendedCost.")
    currency = models.CharField(max_length=3, help_text="lineItem/CurrencyCode.")
    source_event = models.ForeignKey(
        "connectors.SourceEvent", on_delete=models.RESTRICT, related_name="cloud_cost_line_items",
        help_text="The uploaded report this line item came from.",
    )

    class Meta:
        ordering = ["company", "usage_start", "line_item_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["company", "billing_period_start", "usage_account_id", "line_item_id", "time_interval"],
                name="%(app_label)s_%(class)s_unique_line_item",
                violation_error_message="This line item is already imported for this billing period and account.",
            ),
            models.CheckConstraint(
                condition=Q(usage_end__gte=F("usage_start")),
                name="%(app_label)s_%(class)s_usage_end_after_start",
                violation_error_message="A line item's usage ends at or after it starts.",
            ),
        ]
        indexes = [models.Index(fields=["company", "usage_start"])]

    def __str__(self):
        return f"{self.product_code} {self.usage_start:%Y-%m-%d}: {self.unblended_cost} {self.currency}"
