"""
Memberships: what people of one company read through the API, what a user without a role or a data source's token
reads, who sees every company, and how an administrator grants companies in the admin with history.
"""
import pytest
from django.contrib.auth.models import Group, Permission
from django.test import Client

from kpis import roles
from tenancy.models import Membership
from tenancy.roles import ALL_COMPANIES
from tests.companyos.factories import UserFactory
from tests.helpers import client_for
from tests.tenancy.helpers import SECRET

pytestmark = pytest.mark.separate_tenants

COMPANY_READS = [
    "/api/incidents/",
    "/api/kpis/",
    "/api/kpis/mttr/observations/",
    "/api/scores/?company=comp-acme&since=2024-01-01&until=2024-01-31",
    "/api/scorecards/responder/?company=comp-acme",
    "/api/metrics/kpis/?company_id=comp-acme&until=2024-01-16T00:00:00Z",
    "/api/metrics/kpis/?company_id=comp-acme&until=2024-01-16T00:00:00Z&format=csv",
    "/api/source-events/",
]


def user_in(*groups, username):
    user = UserFactory(username=username)
    user.groups.add(*(Group.objects.get_or_create(name=name)[0] for name in groups))
    return user


def results(response):
    assert response.status_code == 200, response.content[:300]
    return response.json()["results"]


def test_a_member_reads_the_data_of_their_company_alone(world):
    client = client_for(world.reader)
    assert [row["external_id"] for row in results(client.get("/api/incidents/"))] == ["acme-private-inc-1"]
    assert {row["company"] for row in results(client.get("/api/kpis/mttr/observations/"))} == {"comp-acme"}
    assert {row["company"] for row in results(client.get("/api/source-events/"))} == {"comp-acme"}
    assert client.get(f"/api/incidents/{world.acme.incident.pk}/kpis/").json()[0]["incident"] == world.acme.incident.pk
    for path in COMPANY_READS:
        assert client.get(path).status_code == 200, path


@pytest.mark.parametrize("path", [
    "/api/scores/?company={}",
    "/api/scorecards/responder/?company={}",
    "/api/metrics/kpis/?company_id={}",
    "/api/metrics/kpis/?company_id={}&format=csv",
])
def test_another_companys_scores_and_evidence_are_a_404_like_an_unknown_company(world, path):
    client = client_for(world.reader)
    field = "company_id" if "company_id" in path else "company"
    for slug in ("comp-globex", "comp-nowhere"):
        response = client.get(path.format(slug))
        assert response.status_code == 404
        assert response.json()["error"]["message"] == f"{field}: No company has the slug '{slug}'."


def test_another_companys_incident_and_its_observations_are_a_404(world):
    client = client_for(world.reader)
    for path in (f"/api/incidents/{world.globex.incident.pk}/", f"/api/incidents/{world.globex.incident.pk}/kpis/"):
        response = client.get(path)
        assert response.status_code == 404
        assert SECRET not in response.content.decode()
    assert client.get("/api/kpis/mttr/observations/", {"company": "comp-globex"}).status_code == 400


def test_a_user_in_no_group_reads_nothing(world):
    client = client_for(world.nobody)
    for path in COMPANY_READS:
        response = client.get(path)
        assert response.status_code == 403, path
        assert response.json()["error"]["message"].startswith("Reading here needs a role")


def test_a_data_source_reads_only_its_companys_incidents(world):
    client = client_for(world.feed)
    assert [row["external_id"] for row in results(client.get("/api/incidents/"))] == ["acme-private-inc-1"]
    assert client.get(f"/api/incidents/{world.acme.incident.pk}/").status_code == 200
    for path in COMPANY_READS:
        if not path.startswith("/api/incidents/"):
            assert client.get(path).status_code == 403, path


def test_a_portal_wide_auditor_reads_every_company_without_memberships_and_writes_into_none(world):
    auditor = user_in(roles.AUDITORS, ALL_COMPANIES, username="msp-auditor")
    client = client_for(auditor)
    assert {row["company"] for row in results(client.get("/api/incidents/"))} == {"comp-acme", "comp-globex"}
    assert client.get("/api/scores/?company=comp-globex").status_code == 200
    # "All companies" is what they reach, not a role: alone it reads nothing.
    assert client_for(user_in(ALL_COMPANIES, username="no-role")).get("/api/incidents/").status_code == 403
    # Reading every company is not writing into it: a data source needs its memberships.
    feed = client_for(user_in(roles.DATA_SOURCES, ALL_COMPANIES, username="wide-feed"))
    alert = {"company": "comp-globex", "asset": "web-1", "signature": "disk", "severity": "high",
             "issued_at": "2024-01-15T10:00:00Z", "source": "test"}
    response = feed.post("/api/alerts/", alert, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["message"] == "[0].company: No company has the slug 'comp-globex'."


def test_a_superuser_reads_every_company(world):
    client = client_for(UserFactory(username="root", is_superuser=True))
    assert {row["company"] for row in results(client.get("/api/incidents/"))} == {"comp-acme", "comp-globex"}
    assert client.get("/api/scorecards/responder/?company=comp-globex").status_code == 200


def test_an_administrator_grants_a_company_on_its_page_and_the_grant_is_in_the_history(world):
    admin = UserFactory(username="msp-admin", is_superuser=True)
    browser = Client()
    browser.force_login(admin)
    company = world.globex.company
    form = {
        "slug": company.slug, "name": company.name,
        "domains-TOTAL_FORMS": "1", "domains-INITIAL_FORMS": "1",
        "domains-0-id": str(world.globex.domain.pk), "domains-0-company": str(company.pk),
        "domains-0-slug": world.globex.domain.slug, "domains-0-name": world.globex.domain.name,
        "memberships-TOTAL_FORMS": "1", "memberships-INITIAL_FORMS": "0",
        "memberships-0-user": str(world.executive.pk), "memberships-0-company": str(company.pk),
    }
    response = browser.post(f"/admin/tenancy/company/{company.pk}/change/", form)
    assert response.status_code == 302, response.content.decode()[-2000:]
    assert client_for(world.executive).get("/api/scores/?company=comp-globex").status_code == 200
    grant = Membership.history.get(user=world.executive, company=company)
    assert (grant.history_type, grant.history_user) == ("+", admin)
    changes = browser.get("/admin/tenancy/historicalmembership/")
    assert "acme-exec" in changes.content.decode()
    user_page = browser.get(f"/admin/auth/user/{world.executive.pk}/change/").content.decode()
    assert "comp-acme" in user_page and "comp-globex" in user_page


def test_staff_who_see_one_company_list_and_open_only_its_rows_in_the_admin(world):
    staff = world.reader
    staff.user_permissions.add(*Permission.objects.filter(codename__in=["view_incident", "view_company"]))
    browser = Client()
    browser.force_login(staff)
    incidents = browser.get("/admin/incidents/incident/").content.decode()
    assert "acme-private-inc-1" in incidents
    assert SECRET not in incidents and "comp-globex" not in incidents
    hidden = browser.get(f"/admin/incidents/incident/{world.globex.incident.pk}/change/", follow=True)
    assert SECRET not in hidden.content.decode()
    assert "doesn’t exist" in hidden.content.decode()
    assert "comp-globex" not in browser.get("/admin/tenancy/company/").content.decode()

