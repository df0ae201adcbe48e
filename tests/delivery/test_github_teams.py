"""A repository's owning team, as GitHub sends its custom property `team` with every event, kept on each row."""
import json

import pytest

from connectors.models import ServiceLink
from delivery import github
from delivery.models import Change, Deployment
from tests.connectors.factories import IntegrationFactory
from tests.helpers import FIXTURES_DIR
from tests.tenancy.factories import ServiceFactory

pytestmark = pytest.mark.django_db

FIXTURES = FIXTURES_DIR / "github"


def payload(event, **custom_properties):
    body = json.loads((FIXTURES / f"{event}.json").read_text())
    if custom_properties:
        body["repository"]["custom_properties"] = custom_properties
    return body


@pytest.fixture
def integration():
    payments = ServiceFactory(slug="payments", domain__slug="checkout", domain__company__slug="comp-octo")
    integration = IntegrationFactory(kind="github", name="octo-org", company=payments.domain.company)
    ServiceLink.objects.create(integration=integration, external_id="octo-org/payments-api", service=payments)
    return integration


def test_each_row_keeps_the_team_its_repository_names(integration):
    github.receive_delivery(integration, delivery_id="d-1", event_type="pull_request", payload=payload("pull_request", team="payments"))
    github.receive_delivery(integration, delivery_id="d-2", event_type="deployment", payload=payload("deployment", team=["payments", "sre"]))

    assert Change.objects.get().team == "payments"
    assert Deployment.objects.get().team == "payments"  # a multi-select property: its first value


def test_a_repository_without_the_property_has_no_team_until_a_report_names_one(integration):
    github.receive_delivery(integration, delivery_id="d-1", event_type="deployment", payload=payload("deployment"))
    assert Deployment.objects.get().team == ""
    github.receive_delivery(integration, delivery_id="d-2", event_type="deployment_status",
                            payload=payload("deployment_status", team="  payments  "))
    assert Deployment.objects.get().team == "payments"
