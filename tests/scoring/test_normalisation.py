"""The one normalisation rule, the seed's security formula and the status bands."""
import pytest

from kpis.choices import Direction
from scoring.bands import band_for
from scoring.normalisation import kpi_score, value_and_score, weighted_mean
from tests.kpis.factories import KpiDefinitionFactory

HIGHER = Direction.HIGHER_IS_BETTER
LOWER = Direction.LOWER_IS_BETTER


@pytest.mark.parametrize(
    "value, expected",
    [(99.9, 100.0), (100.0, 100.0), (99.5, 0.0), (90.0, 0.0), (99.7, 50.0)],
)
def test_a_higher_is_better_kpi_scores_100_at_target_0_at_critical_and_linear_between(value, expected):
    assert kpi_score(value, 99.9, 99.5, HIGHER) == pytest.approx(expected)


@pytest.mark.parametrize(
    "value, expected",
    [(30, 100.0), (10, 100.0), (60, 0.0), (600, 0.0), (45, 50.0), (36, 80.0)],
)
def test_a_lower_is_better_kpi_scores_100_at_target_0_at_critical_and_linear_between(value, expected):
    assert kpi_score(value, 30, 60, LOWER) == pytest.approx(expected)


def test_an_unknown_direction_is_refused_by_name():
    with pytest.raises(ValueError, match="sideways"):
        kpi_score(1, 2, 3, "sideways")


@pytest.mark.django_db
def test_per_severity_targets_score_each_severity_against_its_own_thresholds_weighted_by_count():
    mttr = KpiDefinitionFactory(
        slug="mttr", target=30, critical_threshold=60, targets={"P1": {"target": 120, "critical": 240}}
    )
    # Three P1 incidents averaging 180 min (score 50 against P1's 120/240) and one P3 at 45 min (50 against 30/60)
    # plus one P3 at 30 (100): P3 group mean 37.5 -> 75.
    groups = [("P1", 3, 540.0), ("P3", 2, 75.0)]
    value, score = value_and_score(mttr, groups)
    assert value == pytest.approx(615 / 5)
    assert score == pytest.approx((3 * 50 + 2 * 75) / 5)


@pytest.mark.django_db
def test_a_persona_override_is_used_only_when_that_persona_asks():
    kpi = KpiDefinitionFactory(target=30, critical_threshold=60, targets={"exec": {"target": 20, "critical": 40}})
    assert value_and_score(kpi, [(None, 1, 30.0)]) == (30.0, 100.0)
    assert value_and_score(kpi, [(None, 1, 30.0)], persona="exec") == (30.0, 50.0)


@pytest.mark.django_db
def test_a_tracked_only_kpi_reports_its_value_without_a_score():
    kpi = KpiDefinitionFactory(dimension="none", weight=0, target=None, critical_threshold=None)
    assert value_and_score(kpi, [(None, 2, 10.0)]) == (5.0, None)


@pytest.mark.django_db
def test_the_security_dimension_is_the_seeds_security_scoring_formula():
    values = {
        "critical-cve-age": 2,  # 100 - min(20, 100) = 80
        "vuln-sla-compliance": 96,
        "abac-policy-coverage": 98,
        "secret-scan-violations": 0,  # 100 - 0 = 100
        "compliance-score": 99,
    }
    definitions = {
        slug: KpiDefinitionFactory(slug=slug, dimension="security", weight=1, direction=LOWER, target=0, critical_threshold=10)
        for slug in values
    }
    scores = {slug: value_and_score(definitions[slug], [(None, 1, float(value))])[1] for slug, value in values.items()}
    weights = {"critical-cve-age": 30, "vuln-sla-compliance": 25, "abac-policy-coverage": 20,
               "secret-scan-violations": 15, "compliance-score": 10}
    score, counted, missing = weighted_mean(scores, weights)
    # 80*0.30 + 96*0.25 + 98*0.20 + 100*0.15 + 99*0.10 = 24 + 24 + 19.6 + 15 + 9.9
    assert score == pytest.approx(92.5)
    assert counted == sorted(values) and missing == []


@pytest.mark.django_db
def test_the_security_formula_caps_cve_age_and_secret_violations_at_zero():
    cve = KpiDefinitionFactory(slug="critical-cve-age", dimension="security", weight=30, direction=LOWER, target=0, critical_threshold=7)
    secrets = KpiDefinitionFactory(slug="secret-scan-violations", dimension="security", weight=15, direction=LOWER, target=0, critical_threshold=0.5)
    assert value_and_score(cve, [(None, 1, 12.0)])[1] == 0.0
    assert value_and_score(secrets, [(None, 1, 1.0)])[1] == 50.0
    assert value_and_score(secrets, [(None, 1, 3.0)])[1] == 0.0


def test_missing_scores_are_left_out_and_the_remaining_weights_renormalised():
    score, counted, missing = weighted_mean({"a": 80.0, "b": None}, {"a": 30, "b": 70, "c": 10})
    assert score == 80.0
    assert counted == ["a"] and missing == ["b", "c"]


def test_nothing_covered_gives_no_score_rather_than_zero():
    assert weighted_mean({}, {"a": 1}) == (None, [], ["a"])


@pytest.mark.parametrize(
    "score, band, colour, action",
    [
        (100, "Excellent", "green", "Continue monitoring"),
        (90, "Excellent", "green", "Continue monitoring"),
        (89.99, "Healthy", "light green", "Review weekly"),
        (80, "Healthy", "light green", "Review weekly"),
        (79.99, "Attention", "yellow", "Investigate trends"),
        (60, "Attention", "yellow", "Investigate trends"),
        (59.99, "Warning", "orange", "Active remediation"),
        (40, "Warning", "orange", "Active remediation"),
        (39.99, "Critical", "red", "Immediate escalation"),
        (0, "Critical", "red", "Immediate escalation"),
    ],
)
def test_each_band_boundary_follows_the_seeds_status_table(score, band, colour, action):
    result = band_for(score)
    assert (result.name, result.colour, result.action) == (band, colour, action)


def test_no_score_has_no_band():
    assert band_for(None) is None
