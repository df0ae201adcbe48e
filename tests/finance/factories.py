"""factory_boy factories of finance's imported rows: billing MRR records and cloud cost line items."""
import datetime

import factory

from tests.companyos.factories import BASE_TIME
from tests.connectors.factories import UploadEventFactory
from tests.tenancy.factories import CompanyFactory


class RevenueRecordFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "finance.RevenueRecord"

    company = factory.SubFactory(CompanyFactory)
    customer_id = factory.Sequence(lambda n: f"cus_{n:06d}")
    month = datetime.date(2024, 1, 1)
    recurring_revenue = 1000
    new = 0
    expansion = 0
    contraction = 0
    churn = 0
    source_event = factory.SubFactory(UploadEventFactory, company=factory.SelfAttribute("..company"))


class CloudCostLineItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "finance.CloudCostLineItem"

    company = factory.SubFactory(CompanyFactory)
    line_item_id = factory.Sequence(lambda n: f"{n:052x}")
    usage_start = BASE_TIME
    usage_end = factory.LazyAttribute(lambda item: item.usage_start + datetime.timedelta(days=1))
    time_interval = factory.LazyAttribute(lambda item: f"{item.usage_start:%Y-%m-%dT%H:%M:%SZ}/{item.usage_end:%Y-%m-%dT%H:%M:%SZ}")
    billing_period_start = factory.LazyAttribute(lambda item: item.usage_start.replace(day=1, hour=0, minute=0))
    usage_account_id = "123456789012"
    line_item_type = "Usage"
    product_code = "AmazonEC2"
    product_name = "Amazon Elastic Compute Cloud"
    usage_type = "USW2-BoxUsage:m5.xlarge"
    unblended_cost = 100
    currency = "USD"
    source_event = factory.SubFactory(
        UploadEventFactory, source="cloud-cost-csv", event_type="cloud-cost", company=factory.SelfAttribute("..company")
    )
