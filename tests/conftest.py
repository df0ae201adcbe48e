from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db.models.signals import post_save

from kpis import roles
from kpis.calculators import CALCULATORS
from kpis.catalogue import read_catalogue
from scoring.models import ScoreSnapshot
from tests.companyos.factories import UserFactory
from tests.helpers import member_of
from tests.kpis.factories import KpiDefinitionFactory
from tenancy.models import Company, Membership
from tests.tenancy.factories import CompanyFactory, DomainFactory, ServiceFactory


@pytest.fixture(autouse=True)
def members_of_every_company(request):
    """
    Most tests are about one company's numbers, not about who sees them: there every user belongs to every company
    (granted as either is created). Tests of tenant isolation are marked `separate_tenants` and grant memberships
    themselves.
    """
    if request.node.get_closest_marker("separate_tenants"):
        yield
        return

    def user_created(sender, instance, created, raw=False, **kwargs):
        if created and not raw:
            Membership.objects.bulk_create([Membership(user=instance, company=company) for company in Company.objects.all()])

    def company_created(sender, instance, created, raw=False, **kwargs):
        if created and not raw:
            users = get_user_model().objects.all()
            Membership.objects.bulk_create([Membership(user=user, company=instance) for user in users])

    post_save.connect(user_created, sender=get_user_model(), dispatch_uid="members_of_every_company:user")
    post_save.connect(company_created, sender=Company, dispatch_uid="members_of_every_company:company")
    yield
    post_save.disconnect(sender=get_user_model(), dispatch_uid="members_of_every_company:user")
    post_save.disconnect(sender=Company, dispatch_uid="members_of_every_company:company")


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


@pytest.fixture
def scored_demo(db):
    """The demo as `make run` loads it, small (one company over three days) and scored: (company, its last scored day)."""
    call_command("load_demo", companies=1, days=3, incidents=90, alerts=900, stdout=StringIO())
    company = Company.objects.get()
    return company, ScoreSnapshot.objects.filter(company=company).latest("day").day
