"""The world of two companies the isolation tests probe (tests/tenancy/helpers.py)."""
import pytest

from kpis import roles
from kpis.choices import Visibility
from tests.kpis.factories import KpiDefinitionFactory
from tests.tenancy.helpers import INGESTED_KPI, LEAK, SECRET, SECRET_VALUE, World, acme_user, make_tenant


@pytest.fixture
def world(db):
    kpis = [
        KpiDefinitionFactory(slug="mttr"),
        KpiDefinitionFactory(slug="noise-reduction", visibility=Visibility.INTERNAL),
        KpiDefinitionFactory(slug=INGESTED_KPI),
    ]
    acme, globex = make_tenant("acme", "acme-private", 12.5, kpis), make_tenant(LEAK, SECRET, SECRET_VALUE, kpis)
    return World(
        acme=acme,
        globex=globex,
        reader=acme_user(acme, "acme-reader", roles.AUDITORS, roles.RESPONDERS),
        executive=acme_user(acme, "acme-exec", roles.EXECUTIVES),
        feed=acme_user(acme, "acme-feed", roles.DATA_SOURCES),
        nobody=acme_user(acme, "acme-nobody"),
    )
