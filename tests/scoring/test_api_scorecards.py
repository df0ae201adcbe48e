import datetime
import json

import pytest

from kpis import roles
from scoring.services import compute_snapshots
from tests.helpers import client_for, member_of
from tests.kpis.factories import KpiDefinitionFactory, ObservationFactory
from tests.tenancy.factories import CompanyFactory, DomainFactory, ServiceFactory

DAY = datetime.date(2024, 1, 15)
MIDNIGHT = datetime.datetime(2024, 1, 15, tzinfo=datetime.timezone.utc)


@pytest.fixture
def scored_company(db):
    """comp-acme on 2024-01-15: an exec reliability KPI at target, an internal one halfway to critical."""
    company = CompanyFactory(slug="comp-acme")
    ServiceFactory(slug="gateway", domain=DomainFactory(company=company, slug="api-gateway"))
    slo = KpiDefinitionFactory(
        slug="slo-attainment", units="percent", direction="higher", target=99.9, critical_threshold=99.5,
        visibility="exec", dimension="reliability", weight=30,
    )
    burn = KpiDefinitionFactory(
        slug="error-budget-burn-rate", units="ratio", direction="lower", target=1, critical_threshold=6,
        visibility="internal", dimension="reliability", weight=20,
    )
    ObservationFactory(kpi=slo, company=company, observed_at=MIDNIGHT, value=99.95)
    ObservationFactory(kpi=burn, company=company, observed_at=MIDNIGHT, value=3.5)
    compute_snapshots(DAY)
    return company


def test_the_exec_scorecard_shows_composite_band_dimensions_and_only_exec_kpis(scored_company):
    response = client_for(member_of(roles.EXECUTIVES)).get("/api/scorecards/exec/", {"company": "comp-acme"})
    assert response.status_code == 200, response.json()
    card = response.json()
    # reliability = (100 * 30 + 50 * 20) / 50 = 80; the only covered dimension, so the composite too.
    assert card["composite"] == pytest.approx(80.0)
    assert card["band"] == {"key": "healthy", "name": "Healthy", "colour": "light green", "action": "Review weekly"}
    assert set(card["dimensions"]) == {"reliability", "security", "product_adoption", "financials", "efficiency"}
    assert card["date"] == "2024-01-15"
    assert [kpi["slug"] for kpi in card["kpis"]] == ["slo-attainment"]
    assert card["kpis"][0]["score"] == 100.0
    assert "error-budget-burn-rate" not in json.dumps(card)


def test_the_responder_scorecard_includes_internal_kpis(scored_company):
    card = client_for(member_of(roles.RESPONDERS)).get("/api/scorecards/responder/", {"company": "comp-acme"}).json()
    burn = next(kpi for kpi in card["kpis"] if kpi["slug"] == "error-budget-burn-rate")
    assert (burn["value"], burn["score"], burn["status"]["key"]) == (3.5, 50.0, "warning")


def test_a_caller_asks_only_for_a_persona_they_belong_to(scored_company):
    response = client_for(member_of(roles.STAKEHOLDERS)).get("/api/scorecards/exec/", {"company": "comp-acme"})
    assert response.status_code == 403
    assert "exec" in response.json()["error"]["message"]


def test_unknown_persona_company_scope_and_date_are_named(scored_company):
    client = client_for(member_of(roles.EXECUTIVES))
    assert client.get("/api/scorecards/ceo/", {"company": "comp-acme"}).status_code == 404
    assert client.get("/api/scorecards/exec/", {"company": "comp-x"}).json()["error"]["message"] == (
        "company: No company has the slug 'comp-x'."
    )
    assert client.get("/api/scorecards/exec/", {"company": "comp-acme", "scope": "nope"}).json()["error"]["message"] == (
        "scope: 'comp-acme' has no domain 'nope'."
    )
    assert client.get("/api/scorecards/exec/", {"company": "comp-acme", "date": "15/01/2024"}).status_code == 400
    missing_day = client.get("/api/scorecards/exec/", {"company": "comp-acme", "date": "2023-01-01"})
    assert missing_day.status_code == 404


def test_a_service_scorecard_reads_the_service_snapshot(scored_company):
    card = client_for(member_of(roles.EXECUTIVES)).get(
        "/api/scorecards/exec/", {"company": "comp-acme", "scope": "api-gateway/gateway"}
    ).json()
    assert card["scope"] == {"level": "service", "domain": "api-gateway", "service": "gateway"}
    assert card["composite"] is None and card["band"] is None


def test_the_score_series_lists_each_day(scored_company):
    compute_snapshots(DAY + datetime.timedelta(days=1))
    response = client_for(member_of(roles.STAKEHOLDERS)).get(
        "/api/scores/", {"company": "comp-acme", "since": "2024-01-14", "until": "2024-01-16"}
    )
    series = response.json()["series"]
    assert [point["date"] for point in series] == ["2024-01-15", "2024-01-16"]
    assert series[0]["composite"] == pytest.approx(80.0)
    assert series[1]["composite"] is None
    assert client_for(member_of(roles.STAKEHOLDERS)).get(
        "/api/scores/", {"company": "comp-acme", "since": "2024-02-01", "until": "2024-01-01"}
    ).status_code == 400
