"""
Goals that change over time: a definition's dated target schedule is proposed and approved like any score-moving
change, each day is scored against the target in force that day, and an old day recomputes to its stored score.
"""
import datetime
import io

import pytest
import yaml
from django.core.management import call_command

from kpis import services
from kpis.models import KpiDefinition

from scoring.models import Breach, ScoreSnapshot
from scoring.breaches import evaluate_breaches
from tests.helpers import client_for, stored
from tests.kpis.factories import KpiDefinitionFactory, ObservationFactory
from tests.tenancy.factories import CompanyFactory

BEFORE, AFTER = datetime.date(2026, 11, 10), datetime.date(2026, 11, 20)
# From 15 November the goal tightens: resolve within 20 minutes (not 30); 60 minutes stays critical.
SCHEDULE = [{"from": "2026-11-15", "target": 20}]

pytestmark = pytest.mark.django_db


def at_ten(day):
    return datetime.datetime.combine(day, datetime.time(10), tzinfo=datetime.timezone.utc)


@pytest.fixture
def mttr(alice):
    """MTTR (lower is better, target 30, critical 60) with SCHEDULE, observed at 25 minutes on BEFORE and AFTER."""
    company = CompanyFactory(slug="comp-acme")
    kpi = KpiDefinitionFactory(slug="mttr", target=30, critical_threshold=60, target_schedule=SCHEDULE, owner=alice)
    for day in (BEFORE, AFTER):
        ObservationFactory(kpi=kpi, company=company, observed_at=at_ten(day), value=25)
    return kpi


def compute(day, *arguments):
    out = io.StringIO()
    call_command("compute_scores", "--date", day.isoformat(), *arguments, stdout=out)
    return out.getvalue()


def company_kpi(day):
    return ScoreSnapshot.objects.get(day=day, level="company").kpis["mttr"]


def test_days_before_and_after_a_dated_target_are_scored_against_the_target_in_force_each_day(mttr):
    compute(BEFORE)
    compute(AFTER)

    before = company_kpi(BEFORE)
    assert (before["value"], before["target"], before["critical"], before["score"]) == (25, 30, 60, 100.0)
    # 25 minutes against a 20-minute target and a 60-minute critical threshold: (60 - 25) / (60 - 20).
    assert (company_kpi(AFTER)["target"], company_kpi(AFTER)["score"]) == (20, 87.5)


def test_a_later_schedule_change_needs_approval_and_leaves_stored_days_as_they_were_scored(mttr, alice, bob):
    compute(AFTER)
    scored = company_kpi(AFTER)

    proposal = client_for(alice).patch(
        "/api/kpis/mttr/",
        {"target_schedule": [{"from": "2026-11-01", "target": 15, "critical": 50}], "change_reason": "Stretch goal"},
        format="json",
    )
    assert proposal.status_code == 202, proposal.json()
    assert stored(mttr).target_schedule == SCHEDULE
    approved = client_for(bob).post(f"/api/proposals/{proposal.json()['id']}/approve/", {"comment": "Agreed"}, format="json")
    assert approved.status_code == 200, approved.json()
    assert stored(mttr).target_schedule == [{"from": "2026-11-01", "target": 15, "critical": 50}]

    compute(AFTER)
    assert company_kpi(AFTER) == scored
    # Today's version would score the day (25 against 15, critical 50) at 71.4: shown beside the stored 87.5, not stored.
    as_of_now = compute(AFTER, "--as-of-now")
    assert "87.5" in as_of_now and "71.4" in as_of_now, as_of_now
    assert company_kpi(AFTER) == scored


def test_the_api_returns_the_schedule_and_the_thresholds_in_force_today(mttr, alice):
    body = client_for(alice).get("/api/kpis/mttr/").json()
    assert body["target_schedule"] == SCHEDULE
    assert body["in_force_today"]["target"] == 20 and body["in_force_today"]["critical"] == 60


@pytest.mark.parametrize(
    ("schedule", "message"),
    [
        ({"from": "2027-04-01", "target": 97}, "The target schedule must be a list"),
        ([{"target": 20}], 'target_schedule[0] needs a "from" date'),
        ([{"from": "1 April", "target": 20}], "target_schedule[0].from must be a date written YYYY-MM-DD"),
        ([{"from": "2027-04-01", "target": 20, "owner": "x"}], "holds only from, target and critical, not owner"),
        (
            [{"from": "2027-04-01", "target": 20}, {"from": "2027-01-01", "target": 10}],
            "target_schedule[1].from (2027-01-01) must come after the entry before it (2027-04-01)",
        ),
        ([{"from": "2027-04-01", "target": 70}], "target_schedule[0]: when lower is better the critical threshold (60"),
        ([{"from": "2027-04-01", "target": "fast"}], "target_schedule[0].target must be a number"),
        ([{"from": "2027-04-01", "target": 1e308}], "target_schedule[0].target"),
    ],
)
def test_a_schedule_that_cannot_apply_is_a_400_naming_the_entry(mttr, alice, schedule, message):
    response = client_for(alice).patch(
        "/api/kpis/mttr/", {"target_schedule": schedule, "change_reason": "New goals"}, format="json"
    )
    assert response.status_code == 400, response.json()
    assert "target_schedule" in response.json()["error"]["message"]
    assert message in response.json()["error"]["message"]
    assert stored(mttr).target_schedule == SCHEDULE


def test_a_breach_is_judged_by_the_critical_threshold_in_force_that_day(alice):
    company = CompanyFactory(slug="comp-acme")
    kpi = KpiDefinitionFactory(
        slug="mttr", target=30, critical_threshold=60, owner=alice,
        target_schedule=[{"from": AFTER.isoformat(), "target": 20, "critical": 40}],
    )
    for day in (BEFORE, AFTER):
        ObservationFactory(kpi=kpi, company=company, observed_at=at_ten(day), value=50)

    assert evaluate_breaches(BEFORE, company=company) == []
    opened = evaluate_breaches(AFTER, company=company)
    assert [(breach.critical_threshold, breach.worst_value) for breach in opened] == [(40, 50)]
    assert Breach.objects.get().started_at == at_ten(AFTER)


def test_the_rules_file_alerts_at_the_critical_threshold_in_force_today(tmp_path):
    call_command("kpi", "load-catalogue", verbosity=0)
    burn = KpiDefinition.objects.get(slug="error-budget-burn-rate")
    services.change_definition(
        burn, actor=None, reason="Page earlier from today; later, earlier still",
        target_schedule=[{"from": "2000-01-01", "target": 1, "critical": 4}, {"from": "2099-01-01", "target": 1, "critical": 2}],
    )
    path = tmp_path / "companyos.rules.yml"
    call_command("kpi", "recording-rules", "--output", str(path))
    alerts = {rule["alert"]: rule for group in yaml.safe_load(path.read_text())["groups"] for rule in group["rules"] if "alert" in rule}
    assert alerts["SLOBudgetBurning"]["expr"] == "companyos:service:error_budget_burn_rate:ratio > 4"
