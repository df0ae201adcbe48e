"""The cascade's other levels: teams, tenants and cohorts scored like services, their parts recombining to them."""
import pytest

from connectors.csv_import import import_records
from scoring.levels import LEVELS, level_scores
from scoring.reconciliation import composite_parts, reader_parts
from tests.scoring.helpers import DAY, load_catalogue, product_history, team_history
from tests.tenancy.factories import CompanyFactory


@pytest.fixture
def catalogue(db):
    load_catalogue()


def recombined(parts):
    return sum(part["share"] * part["score"] for part in parts) / 100


def assert_recombines(scores):
    """Each dimension's parts recombine to its score and the dimensions to the composite, as a reader sees them."""
    slugs = set(scores.kpis)
    for data in scores.dimensions.values():
        assert recombined(reader_parts(data["parts"], slugs)) == pytest.approx(data["score"])
    assert recombined(composite_parts(scores.dimensions)) == pytest.approx(scores.composite)


def test_a_teams_scores_are_its_own_rows_scored_like_a_service_and_recombine(catalogue):
    payments = team_history(CompanyFactory(slug="comp-acme"))

    teams = {scores.member: scores for scores in level_scores(LEVELS["team"], payments.domain.company, DAY)}

    assert sorted(teams) == ["payments-team", "search-team"]
    payments_team = teams["payments-team"]
    assert payments_team.kpis["deployment-frequency"]["value"] == pytest.approx(2.0)
    assert payments_team.kpis["deployment-frequency"]["score"] == pytest.approx(100 * (2 - 1) / (10 - 1))
    assert payments_team.kpis["lead-time-for-changes"]["value"] == pytest.approx(8 + 5 / 60)
    assert payments_team.kpis["build-success-rate"]["value"] == pytest.approx(50.0)
    assert payments_team.kpis["mttr"]["value"] == pytest.approx(45.0)
    assert payments_team.kpis["mttr"]["score"] == pytest.approx(100 * (60 - 45) / (60 - 30))
    slo = payments_team.kpis["slo-attainment"]
    assert (slo["value"], slo["score"]) == (pytest.approx(99.7), pytest.approx(100 * (99.7 - 99.5) / (99.9 - 99.5)))
    reliability = {part["kpi"] for part in payments_team.dimensions["reliability"]["parts"]}
    assert reliability == {"change-failure-rate", "mttr", "slo-attainment"}
    assert teams["search-team"].kpis["deployment-frequency"]["value"] == pytest.approx(1 / 7)
    assert "mttr" not in teams["search-team"].kpis
    assert set(payments_team.dimensions) == {"efficiency", "reliability"}
    assert_recombines(payments_team)
    assert_recombines(teams["search-team"])


def test_a_tenants_and_a_cohorts_scores_come_from_their_own_rows_and_recombine(catalogue):
    company = CompanyFactory(slug="comp-acme")
    product_history(company)
    # A flag exported whole, not split by tenant or cohort, counts for the company alone.
    import_records("feature-flags", company, ["date", "flag_key", "variation", "result", "evaluations", "contexts"], [
        {"date": f"{DAY}", "flag_key": "dark-mode", "variation": "true", "result": "enabled", "evaluations": 9, "contexts": 9},
    ])

    tenants = {scores.member: scores for scores in level_scores(LEVELS["tenant"], company, DAY)}
    cohorts = {scores.member: scores for scores in level_scores(LEVELS["cohort"], company, DAY)}

    assert sorted(tenants) == ["tnt-1", "tnt-2", "tnt-3"]
    assert tenants["tnt-1"].kpis["feature-adoption-rate"]["value"] == pytest.approx(80.0)
    assert tenants["tnt-1"].kpis["weekly-active-users"]["value"] == pytest.approx(0.0)  # one user both weeks
    assert "weekly-active-users" not in tenants["tnt-2"].kpis  # nobody in the week a month before
    assert tenants["tnt-3"].kpis["weekly-active-users"]["value"] == pytest.approx(100.0)
    assert "active-tenants" not in tenants["tnt-1"].kpis
    assert sorted(cohorts) == ["Enterprise", "SMB"]
    enterprise = cohorts["Enterprise"]
    assert enterprise.kpis["active-tenants"]["value"] == pytest.approx(100.0)  # a mean of 2 active tenants a day, was 1
    assert enterprise.kpis["weekly-active-users"]["value"] == pytest.approx(100.0)
    assert enterprise.kpis["feature-adoption-rate"]["value"] == pytest.approx(50.0)  # (8 + 2) / 20
    assert cohorts["SMB"].kpis["feature-adoption-rate"]["value"] == pytest.approx(25.0)
    assert set(enterprise.dimensions) == {"product_adoption"}
    for scores in [*tenants.values(), *cohorts.values()]:
        assert_recombines(scores)
    # One member is asked for by name.
    assert level_scores(LEVELS["tenant"], company, DAY, member="tnt-2")[0].member == "tnt-2"
