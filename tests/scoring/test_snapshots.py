"""Dimension and composite scores, the service -> domain -> company cascade, snapshots and point-in-time."""
import datetime

import pytest
from django.core.management import call_command
from django.utils import timezone

from kpis.services import change_definition
from scoring.models import DimensionWeights, ScoreSnapshot
from scoring.services import compute_snapshots
from scoring.tasks import compute_day_snapshots
from tests.kpis.factories import KpiDefinitionFactory, ObservationFactory
from tests.tenancy.factories import CompanyFactory, DomainFactory, ServiceFactory

DAY = datetime.date(2024, 1, 15)
NOON = datetime.datetime(2024, 1, 15, 12, tzinfo=datetime.timezone.utc)

pytestmark = pytest.mark.django_db


@pytest.fixture
def estate():
    """Company with domain "data" (services s1, s2) and domain "web" (service s3), and three scored KPIs."""
    company = CompanyFactory(slug="comp-acme")
    data, web = DomainFactory(company=company, slug="data"), DomainFactory(company=company, slug="web")
    s1, s2, s3 = ServiceFactory(domain=data, slug="s1"), ServiceFactory(domain=data, slug="s2"), ServiceFactory(domain=web, slug="s3")
    latency = KpiDefinitionFactory(slug="latency", direction="lower", target=30, critical_threshold=60, weight=2)
    builds = KpiDefinitionFactory(slug="builds", direction="higher", target=90, critical_threshold=50, weight=1)
    nrr = KpiDefinitionFactory(slug="nrr", direction="higher", target=110, critical_threshold=90, weight=1, dimension="financials")

    def observe(kpi, value, service=None, minute=0):
        scope = {"service": service, "domain": service.domain} if service else {}
        return ObservationFactory(kpi=kpi, company=company, value=value, observed_at=NOON + datetime.timedelta(minutes=minute), **scope)

    observe(latency, 30, s1)
    observe(latency, 60, s1, minute=1)  # s1 latency mean 45 -> 50
    observe(latency, 36, s2)  # -> 80
    observe(latency, 30, s3)  # -> 100
    observe(builds, 70, s1)  # -> 50
    observe(nrr, 100)  # company-level -> 50
    return {"company": company, "data": data, "web": web, "s1": s1, "s2": s2, "s3": s3, "latency": latency, "nrr": nrr}


def _snapshot(company, **scope):
    return ScoreSnapshot.objects.get(company=company, day=DAY, domain=scope.get("domain"), service=scope.get("service"))


def test_scores_cascade_from_services_to_domains_to_the_company(estate):
    compute_snapshots(DAY, company=estate["company"])
    s1 = _snapshot(estate["company"], domain=estate["data"], service=estate["s1"])
    data = _snapshot(estate["company"], domain=estate["data"])
    web = _snapshot(estate["company"], domain=estate["web"])
    company = _snapshot(estate["company"])
    assert s1.kpis["latency"]["value"] == 45 and s1.kpis["latency"]["score"] == 50
    assert s1.dimensions["reliability"]["score"] == pytest.approx((2 * 50 + 1 * 50) / 3)
    # data domain: its latency is the mean of its observations, (30 + 60 + 36) / 3 = 42 -> 60; its reliability
    # the mean of its services' (s1 50, s2 80) = 65
    assert (data.kpis["latency"]["value"], data.kpis["latency"]["score"]) == (42, pytest.approx(60))
    assert data.dimensions["reliability"]["score"] == pytest.approx(65)
    assert web.dimensions["reliability"]["score"] == pytest.approx(100)
    # company: the mean of its domains' reliability (65, 100), no company-level reliability KPI; nrr (its own) = 50
    reliability = (65 + 100) / 2
    assert company.dimensions["reliability"]["score"] == pytest.approx(reliability)
    assert company.dimensions["financials"]["score"] == pytest.approx(50)
    # Only reliability (25) and financials (15) have data: their weights are renormalised.
    assert company.composite == pytest.approx((25 * reliability + 15 * 50) / 40)
    assert company.band == "attention"
    assert company.coverage == {"counted": ["financials", "reliability"], "missing": ["efficiency", "product_adoption", "security"]}


def test_a_kpi_without_observations_is_reported_missing_and_the_rest_renormalised(estate):
    compute_snapshots(DAY, company=estate["company"])
    s2 = _snapshot(estate["company"], domain=estate["data"], service=estate["s2"])
    assert s2.dimensions["reliability"] == {
        "score": 80.0, "weight": 25.0, "counted": ["latency"], "missing": ["builds"],
        "parts": [{"kind": "kpi", "kpi": "latency", "weight": 2.0, "score": 80.0, "value": 36.0}],
    }
    assert s2.composite == pytest.approx(80.0)
    assert s2.dimensions["financials"]["score"] is None and s2.dimensions["financials"]["missing"] == ["nrr"]


def test_a_snapshot_records_its_exact_inputs(estate):
    compute_snapshots(DAY, company=estate["company"])
    company = _snapshot(estate["company"])
    latency_ids = sorted(estate["latency"].observations.values_list("id", flat=True))
    assert company.inputs["observations"]["latency"] == latency_ids
    assert company.inputs["definitions"]["latency"] == estate["latency"].history.latest().history_id
    assert company.inputs["weights_history_id"] == DimensionWeights.history.latest().history_id


def test_every_service_domain_and_the_company_gets_a_snapshot_even_without_data(estate):
    ServiceFactory(domain=estate["web"], slug="idle")
    compute_snapshots(DAY, company=estate["company"])
    levels = sorted(ScoreSnapshot.objects.filter(day=DAY).values_list("level", flat=True))
    assert levels == ["company", "domain", "domain", "service", "service", "service", "service"]
    idle = ScoreSnapshot.objects.get(day=DAY, service__slug="idle")
    assert idle.composite is None and idle.band == "" and idle.kpis == {}


def test_recomputing_a_day_overwrites_its_snapshots_deterministically(estate):
    compute_snapshots(DAY, company=estate["company"])
    first = {(s.level, s.domain_id, s.service_id): (s.composite, s.dimensions, s.kpis, s.inputs) for s in ScoreSnapshot.objects.all()}
    compute_day_snapshots.delay(DAY.isoformat(), estate["company"].id)
    second = {(s.level, s.domain_id, s.service_id): (s.composite, s.dimensions, s.kpis, s.inputs) for s in ScoreSnapshot.objects.all()}
    assert second == first
    assert ScoreSnapshot.objects.count() == 6


def test_per_severity_targets_apply_to_incident_observations(estate):
    from tests.incidents.factories import IncidentFactory

    mttr = KpiDefinitionFactory(slug="mttr", target=30, critical_threshold=60, weight=1, targets={"P1": {"target": 120, "critical": 240}})
    incident = IncidentFactory(service=estate["s3"], severity="P1")
    ObservationFactory(kpi=mttr, company=estate["company"], domain=estate["web"], service=estate["s3"], incident=incident, value=180, observed_at=NOON)
    compute_snapshots(DAY, company=estate["company"])
    # 180 min is beyond the default critical (60) but halfway between P1's 120 and 240.
    assert _snapshot(estate["company"], domain=estate["web"], service=estate["s3"]).kpis["mttr"]["score"] == pytest.approx(50)


def test_the_security_dimension_follows_the_seed_formula_with_missing_inputs_renormalised(estate):
    slugs = {"critical-cve-age": 2, "vuln-sla-compliance": 96, "abac-policy-coverage": 98, "secret-scan-violations": 0}
    for slug, value in slugs.items():
        kpi = KpiDefinitionFactory(slug=slug, dimension="security", weight=1, direction="higher", target=95, critical_threshold=85)
        ObservationFactory(kpi=kpi, company=estate["company"], value=value, observed_at=NOON)
    KpiDefinitionFactory(slug="compliance-score", dimension="security", weight=1, direction="higher", target=98, critical_threshold=90)
    compute_snapshots(DAY, company=estate["company"])
    security = _snapshot(estate["company"]).dimensions["security"]
    # compliance-score has no observation: the formula's other weights (30+25+20+15) are renormalised.
    assert security["score"] == pytest.approx((80 * 30 + 96 * 25 + 98 * 20 + 100 * 15) / 90)
    assert security["missing"] == ["compliance-score"]


def test_changing_a_target_today_leaves_an_earlier_days_snapshot_unchanged_but_as_of_now_shows_it(estate, capsys):
    compute_snapshots(DAY, company=estate["company"])
    before = _snapshot(estate["company"]).composite
    change_definition(estate["latency"], actor=None, reason="Tighter latency target", target=20, critical_threshold=40)
    call_command("compute_scores", "--date", DAY.isoformat())
    assert _snapshot(estate["company"]).composite == before

    call_command("compute_scores", "--date", DAY.isoformat(), "--as-of-now", "--company", "comp-acme")
    output = capsys.readouterr().out
    now_composite = next(s for s in compute_snapshots(DAY, company=estate["company"], as_of_now=True) if s.level == "company").composite
    assert now_composite < before
    assert f"comp-acme  {before:.1f}  {now_composite:.1f}" in output
    assert _snapshot(estate["company"]).composite == before


def test_a_day_after_a_change_is_scored_with_the_changed_definition(estate):
    change_definition(estate["latency"], actor=None, reason="Tighter latency target", target=20, critical_threshold=40)
    today = timezone.now().date()
    ObservationFactory(kpi=estate["latency"], company=estate["company"], value=30, observed_at=timezone.now())
    compute_snapshots(today, company=estate["company"])
    assert ScoreSnapshot.objects.get(day=today, level="company").kpis["latency"]["score"] == pytest.approx(50)


def test_the_seed_weights_are_installed():
    weights = DimensionWeights.objects.get()
    assert weights.as_dict() == {"reliability": 25, "security": 25, "product_adoption": 20, "financials": 15, "efficiency": 15}


def test_the_nightly_task_without_a_company_computes_every_company(estate):
    other = CompanyFactory(slug="comp-globex")
    compute_day_snapshots.delay(DAY.isoformat())
    assert set(ScoreSnapshot.objects.filter(level="company", day=DAY).values_list("company__slug", flat=True)) == {
        "comp-acme", "comp-globex"
    }
    assert ScoreSnapshot.objects.get(company=other, day=DAY).composite is None


def test_compute_scores_all_days_covers_every_day_from_the_first_observation_to_yesterday(estate):
    first = timezone.now().date() - datetime.timedelta(days=3)
    ObservationFactory(kpi=estate["nrr"], company=estate["company"], value=100, observed_at=timezone.now() - datetime.timedelta(days=3))
    estate["company"].observations.filter(observed_at__date=DAY).delete()
    call_command("compute_scores", "--all-days")
    days = set(ScoreSnapshot.objects.filter(level="company").values_list("day", flat=True))
    assert days == {first + datetime.timedelta(days=n) for n in range(3)}


def test_compute_scores_names_a_bad_date_and_an_unknown_company(estate):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="'2024-13-01' is not a date"):
        call_command("compute_scores", "--date", "2024-13-01")
    with pytest.raises(CommandError, match="comp-nobody"):
        call_command("compute_scores", "--date", "2024-01-15", "--company", "comp-nobody")


def test_snapshots_and_breaches_are_listed_read_only_in_the_admin(estate, client, superuser):
    compute_snapshots(DAY, company=estate["company"])
    client.force_login(superuser)
    response = client.get("/admin/scoring/scoresnapshot/?level=company")
    assert response.status_code == 200 and "comp-acme" in response.content.decode()
    assert client.get("/admin/scoring/breach/?state=open").status_code == 200
    snapshot = ScoreSnapshot.objects.filter(level="company").get()
    assert client.post(f"/admin/scoring/scoresnapshot/{snapshot.pk}/delete/", {"post": "yes"}).status_code == 403
