import pytest

from kpis import roles
from kpis.calculators import CALCULATORS
from tests.factories import KpiDefinitionFactory, UserFactory
from tests.helpers import member_of


@pytest.fixture
def superuser(db):
    return UserFactory(username="admin", is_superuser=True)


# The units the catalogue gives each computed KPI.
COMPUTED_KPI_UNITS = {
    "mttr": "minutes",
    "mtta": "minutes",
    "cadence-adherence": "percent",
    "stakeholder-satisfaction": "score",
    "p1-incident-count": "per_month",
    "noise-reduction": "percent",
    "mttr-reduction": "percent_change",
    "self-healed": "percent",
    "patch-compliance": "percent",
}


@pytest.fixture
def computed_kpis(db):
    """A definition for every KPI that has a calculator, by slug."""
    return {
        slug: KpiDefinitionFactory(slug=slug, units=COMPUTED_KPI_UNITS[slug], target=None, critical_threshold=None, weight=0)
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
