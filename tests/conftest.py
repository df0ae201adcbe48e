import pytest

from kpis import roles
from kpis.calculators import CALCULATORS
from kpis.catalogue import read_catalogue
from tests.factories import CompanyFactory, DomainFactory, KpiDefinitionFactory, ServiceFactory, UserFactory
from tests.helpers import member_of


@pytest.fixture
def superuser(db):
    return UserFactory(username="admin", is_superuser=True)


# The units the catalogue gives each KPI, by slug.
CATALOGUE_UNITS = {entry["slug"]: entry["units"] for entry in read_catalogue()}


@pytest.fixture
def computed_kpis(db):
    """A definition for every KPI that has a calculator, by slug."""
    return {
        slug: KpiDefinitionFactory(slug=slug, units=CATALOGUE_UNITS[slug], target=None, critical_threshold=None, weight=0)
        for slug in CALCULATORS
    }


@pytest.fixture
def alice(db):
    """A KPI owner."""
    return member_of(roles.KPI_OWNERS, "alice")


@pytest.fixture
def bob(db):
    """A KPI approver."""
    return member_of(roles.KPI_APPROVERS, "bob")


@pytest.fixture
def companies(db):
    """Two companies (comp-acme, comp-globex), each with an api-gateway and a frontend domain of one service."""
    made = []
    for slug in ("comp-acme", "comp-globex"):
        company = CompanyFactory(slug=slug)
        for domain in ("api-gateway", "frontend"):
            ServiceFactory(domain=DomainFactory(company=company, slug=f"{slug}-{domain}"))
        made.append(company)
    return made
