"""factory_boy factories of connectors' models: webhook integrations, and the uploaded CSV files imported rows came from."""
import factory

from tests.tenancy.factories import CompanyFactory


class IntegrationFactory(factory.django.DjangoModelFactory):
    """A webhook integration of one company with a known signing secret."""

    class Meta:
        model = "connectors.Integration"

    kind = "github"
    name = factory.Sequence(lambda n: f"integration-{n}")
    company = factory.SubFactory(CompanyFactory)
    secret = "It's a Secret to Everybody"


class UploadEventFactory(factory.django.DjangoModelFactory):
    """The uploaded CSV file imported rows came from."""

    class Meta:
        model = "connectors.SourceEvent"

    source = "billing-csv"
    delivery_id = factory.Sequence(lambda n: f"upload-{n}")
    event_type = "billing"
    company = factory.SubFactory(CompanyFactory)
    raw = "month,customer_id\n"
