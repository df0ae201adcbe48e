import datetime

import pytest

from tests.companyos.factories import UserFactory
from tests.kpis.factories import KpiDefinitionFactory
from tests.notifications.helpers import Receiver
from tests.tenancy.factories import CompanyFactory, ServiceFactory


@pytest.fixture
def receiver():
    """A local HTTP server standing in for a chat service or a webhook receiver, stopped after the test."""
    server = Receiver().start()
    yield server
    server.stop()


@pytest.fixture
def acme(db):
    return ServiceFactory(domain__company=CompanyFactory(slug="comp-acme"))


@pytest.fixture
def globex(db):
    return ServiceFactory(domain__company=CompanyFactory(slug="comp-globex"))


@pytest.fixture
def owner(db):
    return UserFactory(username="sre-lead", email="sre-lead@example.com")


@pytest.fixture
def burn_rate(owner):
    """An exec-visible KPI whose breach opens after 2 minutes beyond 6."""
    return KpiDefinitionFactory(
        slug="error-budget-burn-rate", direction="lower", target=1, critical_threshold=6, units="ratio",
        breach_after=datetime.timedelta(minutes=2), owner=owner,
    )

