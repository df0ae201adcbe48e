"""GET /api/levels/{team,tenant,cohort}/ and GET /api/dora/tiers/: a level's members and a scope's DORA tiers."""
import pytest

from kpis import roles
from tests.helpers import client_for, member_of
from tests.scoring.helpers import DAY, load_catalogue, product_history, team_history
from tests.tenancy.factories import CompanyFactory, MembershipFactory


@pytest.fixture
def acme(db):
    load_catalogue()
    company = CompanyFactory(slug="comp-acme")
    team_history(company)
    product_history(company)
    return company


@pytest.fixture
def executive(db):
    return client_for(member_of(roles.EXECUTIVES, "erin"))


def recombined(parts):
    return sum(part["share"] * part["score"] for part in parts) / 100


def test_each_team_is_listed_with_its_scores_and_parts_that_recombine(acme, executive):
    response = executive.get("/api/levels/team/", {"company": "comp-acme", "date": DAY.isoformat()})

    assert response.status_code == 200
    body = response.json()
    assert [member["member"] for member in body["members"]] == ["payments-team", "search-team"]
    payments = body["members"][0]
    assert payments["kpis"]["deployment-frequency"]["value"] == pytest.approx(2.0)
    assert recombined(payments["composite_parts"]) == pytest.approx(payments["composite"])
    for dimension in payments["dimensions"].values():
        assert recombined(dimension["parts"]) == pytest.approx(dimension["score"])


def test_one_cohort_by_name_and_a_tenant(acme, executive):
    cohort = executive.get("/api/levels/cohort/", {"company": "comp-acme", "date": DAY.isoformat(), "member": "Enterprise"})
    tenant = executive.get("/api/levels/tenant/", {"company": "comp-acme", "date": DAY.isoformat(), "member": "tnt-1"})

    (enterprise,) = cohort.json()["members"]
    assert enterprise["kpis"]["active-tenants"]["value"] == pytest.approx(100.0)
    assert list(enterprise["dimensions"]) == ["product_adoption"]
    assert tenant.json()["members"][0]["kpis"]["feature-adoption-rate"]["value"] == pytest.approx(80.0)


def test_an_unknown_level_member_company_or_date_is_named(acme, executive):
    assert executive.get("/api/levels/region/", {"company": "comp-acme"}).json()["error"]["message"].startswith("There is no level 'region'")
    missing = executive.get("/api/levels/team/", {"company": "comp-acme", "date": DAY.isoformat(), "member": "nobody"})
    assert missing.status_code == 404 and "member:" in missing.json()["error"]["message"]
    assert executive.get("/api/levels/team/", {"company": "comp-nope"}).status_code == 404
    assert executive.get("/api/levels/team/", {"company": "comp-acme", "date": "yesterday"}).json()["error"]["fields"]["date"]


def test_the_dora_tiers_of_a_team_with_their_daily_history(acme, executive):
    response = executive.get("/api/dora/tiers/", {
        "company": "comp-acme", "team": "payments-team", "since": "2024-03-19", "until": DAY.isoformat(),
    })

    assert response.status_code == 200
    body = response.json()
    assert body["scope"] == {"kind": "team", "name": "payments-team"} and body["year"] == 2024
    assert body["latest"]["deployment-frequency"]["tier"] == "high"  # 14 deployments in 30 days: under once a day
    assert body["latest"]["lead-time-for-changes"] == {
        "label": "Lead time for changes", "value": pytest.approx(8 + 5 / 60), "tier": "elite", "day": "2024-03-20",
    }
    assert body["latest"]["mttr"]["tier"] == "elite"  # 45 minutes
    assert [day["day"] for day in body["history"]] == ["2024-03-19", "2024-03-20"]
    assert body["thresholds"]["change-failure-rate"]["medium"] == {"bound": "<= 10", "published": "10%"}


def test_the_dora_tiers_of_the_company_and_a_service_by_the_2023_report(acme, executive):
    service = acme.domains.get().services.order_by("id").last()
    company = executive.get("/api/dora/tiers/", {"company": "comp-acme", "until": DAY.isoformat(), "year": "2023"})
    by_service = executive.get("/api/dora/tiers/", {
        "company": "comp-acme", "service": f"{service.domain.slug}/{service.slug}", "until": DAY.isoformat(),
    })

    assert company.json()["year"] == 2023 and company.json()["scope"]["kind"] == "company"
    assert company.json()["latest"]["deployment-frequency"]["value"] == pytest.approx(15 / 30)
    assert by_service.json()["latest"]["deployment-frequency"] == {
        "label": "Deployment frequency", "value": pytest.approx(1 / 30), "tier": "medium", "day": "2024-03-20",
    }


def test_an_unknown_team_service_or_year_is_a_400_naming_it(acme, executive):
    def error(**params):
        response = executive.get("/api/dora/tiers/", {"company": "comp-acme", **params})
        assert response.status_code == 400
        return response.json()["error"]["fields"]

    assert "team" in error(team="nobody")
    assert "service" in error(service="nowhere/none")
    assert "year" in error(year="2019")
    assert "team" in error(team="payments-team", service="a/b")
    assert "since" in error(since="2024-03-21", until="2024-03-20")


@pytest.mark.separate_tenants
def test_another_companys_levels_and_tiers_answer_like_an_unknown_company(acme, client):
    outsider = member_of(roles.EXECUTIVES, "olga")
    MembershipFactory(user=outsider, company=CompanyFactory(slug="comp-globex"))
    client.force_login(outsider)

    for url in ("/api/levels/team/", "/api/dora/tiers/", "/cockpit/levels/", "/cockpit/dora/"):
        assert client.get(url, {"company": "comp-acme"}).status_code == 404, url
    assert client.get("/api/levels/team/", {"company": "comp-globex"}).json()["members"] == []
