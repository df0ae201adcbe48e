"""factory_boy factories of product's imported rows: active users and feature-flag evaluations."""
import factory

from tests.companyos.factories import BASE_TIME
from tests.connectors.factories import UploadEventFactory
from tests.tenancy.factories import CompanyFactory


class ActiveUserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "product.ActiveUser"

    company = factory.SubFactory(CompanyFactory)
    day = BASE_TIME.date()
    tenant_id = "tnt_northwind"
    user_id = factory.Sequence(lambda n: f"usr_{n:06d}")
    source_event = factory.SubFactory(
        UploadEventFactory, source="active-users-csv", event_type="active-users", company=factory.SelfAttribute("..company")
    )


class FeatureFlagEvaluationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "product.FeatureFlagEvaluation"

    company = factory.SubFactory(CompanyFactory)
    day = BASE_TIME.date()
    flag_key = "new-checkout-flow"
    variation = "true"
    enabled = True
    evaluations = factory.LazyAttribute(lambda evaluation: evaluation.contexts * 5)
    contexts = 100
    source_event = factory.SubFactory(
        UploadEventFactory, source="feature-flags-csv", event_type="feature-flags", company=factory.SelfAttribute("..company")
    )
