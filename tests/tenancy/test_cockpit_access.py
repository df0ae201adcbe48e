"""The cockpit as company A's people see it: their companies alone, and a page saying why when they may see nothing."""
import pytest
from django.test import Client

from tests.companyos.factories import UserFactory
from tests.tenancy.helpers import SECRET, acme_user
from tests.tenancy.factories import CompanyFactory, MembershipFactory

pytestmark = pytest.mark.separate_tenants


def browser_of(user):
    browser = Client()
    browser.force_login(user)
    return browser


def test_the_company_picker_offers_only_the_users_companies(world):
    MembershipFactory(user=world.executive, company=CompanyFactory(slug="comp-initech", name="Initech"))
    page = browser_of(world.executive).get("/cockpit/")
    assert page.status_code == 200
    body = page.content.decode()
    assert "?company=comp-initech" in body and "?company=comp-acme" in body
    assert "comp-globex" not in body and SECRET not in body


@pytest.mark.parametrize("path", [
    "/cockpit/?company=comp-globex",
    "/cockpit/dimensions/reliability/?company=comp-globex",
    "/cockpit/kpi/mttr/?company=comp-globex",
    "/cockpit/incidents/?company=comp-globex&since=2024-01-01&until=2024-01-31",
    "/cockpit/incidents/{incident}/",
])
def test_another_companys_pages_are_not_found(world, path):
    response = browser_of(world.reader).get(path.format(incident=world.globex.incident.pk))
    assert response.status_code == 404
    assert SECRET not in response.content.decode()


def test_a_user_without_a_role_gets_a_page_saying_so(world):
    response = browser_of(world.nobody).get("/cockpit/")
    assert response.status_code == 403
    assert "Your account has no role yet" in response.content.decode()
    assert "comp-acme" not in response.content.decode()


def test_a_data_sources_user_sees_no_cockpit(world):
    assert browser_of(world.feed).get("/cockpit/").status_code == 403


def test_a_user_of_no_company_gets_a_page_saying_so(world):
    newcomer = acme_user(world.acme, "newcomer", "Executives")
    newcomer.memberships.all().delete()
    response = browser_of(newcomer).get("/cockpit/")
    assert response.status_code == 403
    assert "You are not a member of any company yet" in response.content.decode()


def test_a_superuser_sees_every_company(world):
    body = browser_of(UserFactory(username="root", is_superuser=True)).get("/cockpit/?company=comp-globex").content.decode()
    assert "Globex" in body
