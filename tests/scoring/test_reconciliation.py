"""
Every score a reader sees comes with its parts and the parts recombine to it, for every persona, scope and dimension
of the demo's data, through the scorecards API; the cascade applies one stated rule; KPI values at a domain or the
company are the KPI's formula over its rows.
"""
import datetime
import json

import pytest

from incidents.models import Incident
from kpis import roles
from kpis.models import KpiDefinition
from scoring.cascade import CASCADE_RULE
from scoring.services import compute_snapshots
from tests.helpers import client_for, member_of, scope_params
from tests.incidents.factories import IncidentFactory
from tests.kpis.factories import KpiDefinitionFactory, ObservationFactory
from tests.tenancy.factories import CompanyFactory, DomainFactory, ServiceFactory

DAY = datetime.date(2024, 1, 15)
NOON = datetime.datetime(2024, 1, 15, 12, tzinfo=datetime.timezone.utc)


def reader(persona):
    return client_for(member_of(roles.PERSONA_GROUPS[persona]))


def recombined(parts):
    return sum(part["share"] * part["score"] for part in parts) / 100


def assert_parts_recombine(score, parts):
    assert sum(part["share"] for part in parts) == pytest.approx(100)
    assert score == pytest.approx(recombined(parts))
    for part in parts:
        if part.get("kind") == "members":
            scores = [member["score"] for member in part["members"]]
            assert part["score"] == pytest.approx(sum(scores) / len(scores))
            for member in part["members"]:
                if "parts" in member:
                    assert_parts_recombine(member["score"], member["parts"])


def test_every_persona_scope_and_dimension_shows_parts_that_recombine_to_its_score(scored_demo):
    company, day = scored_demo
    internal = set(KpiDefinition.objects.filter(visibility="internal").values_list("slug", flat=True))
    checked = 0
    for persona in roles.PERSONA_GROUPS:
        client = reader(persona)
        for scope in scope_params(company):
            response = client.get(f"/api/scorecards/{persona}/", {"company": company.slug, "scope": scope, "date": day})
            assert response.status_code == 200, response.json()
            card = response.json()
            assert card["cascade_rule"] == CASCADE_RULE
            if card["composite"] is not None:
                assert_parts_recombine(card["composite"], card["composite_parts"])
            shown_kpis = {kpi["slug"]: kpi for kpi in card["kpis"]}
            for data in card["dimensions"].values():
                if data["score"] is None:
                    assert data["parts"] == []
                    continue
                assert_parts_recombine(data["score"], data["parts"])
                checked += 1
                for part in data["parts"]:
                    if part["kind"] == "kpi":
                        assert part["score"] == pytest.approx(shown_kpis[part["kpi"]]["score"])
            if persona != "responder":
                assert not [slug for slug in internal if f'"{slug}"' in json.dumps(card)], (persona, scope)
    assert checked > 3 * len(scope_params(company))


def test_an_executive_sees_the_internal_security_kpis_as_one_line_and_the_formula_of_each_term(scored_demo):
    company, day = scored_demo
    card = reader("exec").get("/api/scorecards/exec/", {"company": company.slug, "date": day}).json()
    security = card["dimensions"]["security"]
    hidden = [part for part in security["parts"] if part["kind"] == "hidden"]
    # abac-policy-coverage (20) and secret-scan-violations (15) are internal: one line of 35 % of the formula's weight.
    assert [(part["count"], part["weight"]) for part in hidden] == [(2, 35.0)]
    assert set(hidden[0]) == {"kind", "count", "weight", "share", "score"}
    cve = next(part for part in security["parts"] if part.get("kpi") == "critical-cve-age")
    assert cve["formula"] == (
        f"100 - min(critical_cve_age_days × 10, 100) = 100 - min({cve['value']:.4g} × 10, 100) = {cve['score']:.4g}"
    )
    assert cve["weight"] == 30.0


def test_the_company_score_is_the_cascade_rule_applied_to_the_scores_it_shows(scored_demo):
    company, day = scored_demo
    client = reader("responder")

    def card(scope):
        return client.get("/api/scorecards/responder/", {"company": company.slug, "scope": scope, "date": day}).json()

    company_card = card("company")
    domain_cards = [card(domain.slug) for domain in company.domains.order_by("id")]
    weights = dict(KpiDefinition.objects.values_list("slug", "weight"))
    company_kpis = {kpi["slug"]: kpi for kpi in company_card["kpis"]}
    for dimension, data in company_card["dimensions"].items():
        domain_scores = [each["dimensions"][dimension]["score"] for each in domain_cards]
        measured_below = {slug for each in domain_cards for slug in each["dimensions"][dimension]["counted"]}
        own = [slug for slug in data["counted"] if slug not in measured_below]
        # Observations of those KPIs recorded at the company itself (incidents without a service) are one more
        # member of the mean, listed with the members.
        at_company = [
            member["score"] for part in data["parts"] if part["kind"] == "members"
            for member in part["members"] if member["domain"] is None
        ]
        members = [score for score in domain_scores if score is not None] + at_company
        # The demo's weights of the security KPIs are the health model formula's, which scoring uses.
        terms = [(sum(weights[slug] for slug in measured_below), sum(members) / len(members))] if members else []
        terms += [(weights[slug], company_kpis[slug]["score"]) for slug in own]
        if not terms:
            assert data["score"] is None
            continue
        expected = sum(weight * score for weight, score in terms) / sum(weight for weight, _ in terms)
        assert data["score"] == pytest.approx(expected), dimension


def test_the_company_mttr_is_the_mean_over_its_incidents_not_a_mean_of_domain_means(scored_demo):
    company, day = scored_demo
    client = reader("exec")
    start = datetime.datetime.combine(day, datetime.time.min, tzinfo=datetime.timezone.utc)
    resolved = Incident.objects.filter(resolved_at__gte=start, resolved_at__lt=start + datetime.timedelta(days=1))

    def mttr(**scope):
        minutes = [(each.resolved_at - each.detected_at).total_seconds() / 60 for each in resolved.filter(**scope)]
        return sum(minutes) / len(minutes)

    def shown(scope):
        card = client.get("/api/scorecards/exec/", {"company": company.slug, "scope": scope, "date": day}).json()
        return next(kpi for kpi in card["kpis"] if kpi["slug"] == "mttr")

    company_mttr = shown("company")
    assert company_mttr["observations"] == resolved.filter(company=company).count()
    assert company_mttr["value"] == pytest.approx(mttr(company=company))
    for domain in company.domains.all():
        if resolved.filter(service__domain=domain).exists():
            assert shown(domain.slug)["value"] == pytest.approx(mttr(service__domain=domain))


@pytest.fixture
def estate(db):
    """
    comp-acme with domains data (services s1, s2) and web (s3): an exec latency KPI per service, an internal
    builds KPI at s1, a company-level exec KPI (p1s) in the same dimension, and one incident without a service.
    """
    company = CompanyFactory(slug="comp-acme")
    data, web = DomainFactory(company=company, slug="data"), DomainFactory(company=company, slug="web")
    s1, s2, s3 = ServiceFactory(domain=data, slug="s1"), ServiceFactory(domain=data, slug="s2"), ServiceFactory(domain=web, slug="s3")
    latency = KpiDefinitionFactory(slug="latency", direction="lower", target=30, critical_threshold=60, weight=20)
    builds = KpiDefinitionFactory(slug="builds", direction="higher", target=90, critical_threshold=50, weight=10,
                                  visibility="internal")
    p1s = KpiDefinitionFactory(slug="p1s", direction="lower", target=2, critical_threshold=5, weight=15)

    def observe(kpi, value, service=None, minute=0, **extra):
        scope = {"service": service, "domain": service.domain} if service else {}
        at = NOON + datetime.timedelta(minutes=minute)
        return ObservationFactory(kpi=kpi, company=company, value=value, observed_at=at, **scope, **extra)

    observe(latency, 30, s1)
    observe(latency, 60, s1, minute=1)  # s1 latency 45 -> 50; with builds 70 -> 50: s1 reliability 50
    observe(builds, 70, s1)
    observe(latency, 36, s2)  # s2: 80; data: mean(50, 80) = 65
    observe(latency, 30, s3)  # s3 and web: 100
    observe(p1s, 3.5)  # company-level: 50
    observe(latency, 54, incident=IncidentFactory(service=None, company=company))  # no service: 20
    compute_snapshots(DAY, company=company)
    return company


def test_a_kpi_recorded_at_the_company_of_a_kpi_its_domains_measure_is_one_more_member(estate):
    card = reader("exec").get("/api/scorecards/exec/", {"company": "comp-acme", "date": DAY}).json()
    reliability = card["dimensions"]["reliability"]
    members, own = reliability["parts"]
    # The domains (65, 100) and the incident without a service (20) stand for latency and builds (30 of 45).
    assert [member["score"] for member in members["members"]] == pytest.approx([65, 100, 20])
    assert members["members"][2]["name"] == "Recorded at this scope itself"
    assert (members["weight"], members["kpis"], members["hidden_kpis"]) == (30, ["latency"], 1)
    assert (own["kpi"], own["weight"], own["score"]) == ("p1s", 15, 50)
    assert reliability["score"] == pytest.approx((30 * (65 + 100 + 20) / 3 + 15 * 50) / 45)
    # The company's latency is the mean of its five observations: (30 + 60 + 36 + 30 + 54) / 5 = 42.
    assert next(kpi for kpi in card["kpis"] if kpi["slug"] == "latency")["value"] == pytest.approx(42)


def test_an_executive_sees_a_services_internal_kpi_as_one_line_of_its_weight_and_score(estate):
    card = reader("exec").get("/api/scorecards/exec/", {"company": "comp-acme", "scope": "data/s1", "date": DAY}).json()
    parts = card["dimensions"]["reliability"]["parts"]
    assert parts == [
        {"kind": "kpi", "kpi": "latency", "weight": 20.0, "share": pytest.approx(200 / 3), "score": 50.0, "value": 45.0},
        {"kind": "hidden", "count": 1, "weight": 10.0, "share": pytest.approx(100 / 3), "score": 50.0},
    ]


def test_the_score_series_gives_each_days_parts(estate):
    response = reader("stakeholder").get("/api/scores/", {"company": "comp-acme", "since": DAY, "until": DAY})
    point = response.json()["series"][0]
    assert_parts_recombine(point["composite"], point["composite_parts"])
    assert_parts_recombine(point["dimensions"]["reliability"], point["dimension_parts"]["reliability"])
    assert "builds" not in json.dumps(point)
