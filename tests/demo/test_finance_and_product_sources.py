"""The finance and product demos: real-format files through the import service, giving every KPI a value."""
import datetime

import pytest

from connectors.models import SourceEvent
from demo.sources.finance import seed_finance
from demo.sources.product import seed_product
from kpis.choices import ObservationSource
from kpis.models import Observation
from kpis.observations import compute_observations
from tests.tenancy.factories import CompanyFactory

END = datetime.datetime(2024, 3, 1, tzinfo=datetime.timezone.utc)
START = END - datetime.timedelta(days=30)
SLUGS = ["net-revenue-retention", "arr-growth-rate", "gross-margin", "infra-cost-per-active-unit", "active-tenants",
         "weekly-active-users", "feature-adoption-rate"]


@pytest.fixture
def companies(db):
    return [CompanyFactory(slug="comp-acme"), CompanyFactory(slug="comp-globex")]


def test_the_demo_imports_real_exports_once_and_every_kpi_has_a_value_every_day(computed_kpis, companies):
    finance = seed_finance(companies, START, END, seed=42)
    product = seed_product(companies, START, END, seed=42)

    assert set(finance) == {"revenue records", "cloud cost line items"} and min(finance.values()) > 1000
    assert set(product) == {"active users", "feature flag evaluations"} and min(product.values()) > 1000
    assert set(SourceEvent.objects.values_list("source", flat=True)) == {
        "billing-csv", "cloud-cost-csv", "active-users-csv", "feature-flags-csv"
    }
    for slug in SLUGS:
        compute_observations(slug, since=START, until=END, source=ObservationSource.BACKFILL, run="demo-test")
        assert Observation.objects.filter(kpi__slug=slug).count() == 2 * 30, slug
    margins = Observation.objects.filter(kpi__slug="gross-margin").values_list("value", flat=True)
    assert all(65 < margin < 80 for margin in margins)

    events = SourceEvent.objects.count()
    assert seed_finance(companies, START, END, seed=42) == {"revenue records": 0, "cloud cost line items": 0}
    assert seed_product(companies, START, END, seed=42) == {"active users": 0, "feature flag evaluations": 0}
    assert SourceEvent.objects.count() == events
