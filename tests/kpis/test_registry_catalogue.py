"""The KPI catalogue: every KPI of the three seed documents, loaded once and never over an owner's edits."""
import io

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command

from kpis import services
from kpis.catalogue import LOAD_REASON, load_catalogue, read_catalogue
from kpis.models import KpiDefinition
from tests.companyos.factories import UserFactory

pytestmark = pytest.mark.django_db

HistoricalKpiDefinition = KpiDefinition.history.model


def load():
    out = io.StringIO()
    call_command("kpi", "load-catalogue", stdout=out)
    return out.getvalue()


def test_loading_the_catalogue_creates_the_35_definitions_of_the_seed_documents():
    load()
    assert KpiDefinition.objects.count() == 35
    assert {
        "mttr", "mtta", "cadence-adherence", "stakeholder-satisfaction", "slo-attainment", "vuln-sla-compliance",
        "active-tenants", "net-revenue-retention", "deployment-frequency", "noise-reduction", "mttr-reduction",
        "self-healed", "patch-compliance",
    } <= set(KpiDefinition.objects.values_list("slug", flat=True))


def test_the_source_of_truth_kpis_have_its_exact_targets_visibility_and_owner_roles():
    load()
    mttr, mtta, cadence, satisfaction = (
        KpiDefinition.objects.get(slug=slug) for slug in ["mttr", "mtta", "cadence-adherence", "stakeholder-satisfaction"]
    )
    assert mttr.thresholds_for("P1") == (120, 240) and mttr.thresholds_for("P2") == (240, 480)
    assert (mttr.visibility, mttr.owner_role, mttr.units) == ("exec", "Ops Leader", "minutes")
    assert mtta.thresholds_for("P1") == (10, 20) and mtta.thresholds_for("P2") == (20, 40)
    assert (mtta.visibility, mtta.owner_role) == ("internal", "MIM Lead")
    assert (cadence.target, cadence.units, cadence.direction, cadence.owner_role) == (90, "percent", "higher", "Comms Lead")
    assert (satisfaction.target, satisfaction.units, satisfaction.owner_role) == (4.5, "score", "Customer Ops")
    assert {kpi.review_cadence for kpi in (mttr, mtta, cadence, satisfaction)} == {"monthly"}


def test_the_dimension_weights_follow_the_health_model():
    load()
    weights = dict(KpiDefinition.objects.filter(dimension="security").values_list("slug", "weight"))
    assert weights == {
        "critical-cve-age": 30, "vuln-sla-compliance": 25, "abac-policy-coverage": 20,
        "secret-scan-violations": 15, "compliance-score": 10, "failed-auth-attempts": 0,
    }
    for dimension in ["reliability", "security", "product_adoption", "financials", "efficiency"]:
        assert sum(KpiDefinition.objects.filter(dimension=dimension).values_list("weight", flat=True)) == 100


def test_self_healed_is_tracked_without_a_target_and_says_which_denominator_it_uses():
    load()
    self_healed = KpiDefinition.objects.get(slug="self-healed")
    assert (self_healed.target, self_healed.critical_threshold, self_healed.dimension) == (None, None, "none")
    assert "89 / 350" in self_healed.formula and "contradicts" in self_healed.formula


def test_every_catalogue_definition_is_loaded_with_the_catalogue_reason_and_is_active():
    load()
    assert set(HistoricalKpiDefinition.objects.values_list("history_change_reason", flat=True)) == {LOAD_REASON}
    assert set(KpiDefinition.objects.values_list("status", flat=True)) == {"active"}
    assert not KpiDefinition.objects.filter(owner__isnull=False).exists()


def test_loading_the_catalogue_again_changes_nothing_and_adds_no_history():
    load()
    before = list(KpiDefinition.objects.order_by("slug").values())
    history_rows = HistoricalKpiDefinition.objects.count()
    output = load()
    assert list(KpiDefinition.objects.order_by("slug").values()) == before
    assert HistoricalKpiDefinition.objects.count() == history_rows
    assert "Created 0 definition(s)" in output


def test_a_definition_its_owner_edited_is_left_as_the_owner_made_it():
    load()
    owner = UserFactory(username="olivia")
    mttr = KpiDefinition.objects.get(slug="mttr")
    services.change_definition(mttr, actor=owner, reason="Our P1 target is tighter", target=25, critical_threshold=50)
    KpiDefinition.objects.filter(slug="nps").delete()
    load()
    mttr.refresh_from_db()
    assert (mttr.target, mttr.critical_threshold) == (25, 50)
    assert mttr.history.latest().history_user == owner
    assert KpiDefinition.objects.filter(slug="nps").exists()


def test_every_catalogue_entry_is_a_valid_definition():
    for fields in read_catalogue():
        KpiDefinition(**fields).full_clean()


def test_an_invalid_catalogue_entry_is_refused_naming_its_slug_and_nothing_is_loaded(tmp_path):
    catalogue = tmp_path / "catalogue.yaml"
    catalogue.write_text(
        """
defaults: {status: active}
definitions:
  - {slug: good-kpi, name: Good, description: d, formula: f, units: percent, direction: higher,
     target: 90, critical_threshold: 75, owner_role: Ops, dimension: none, weight: 0}
  - {slug: bad-kpi, name: Bad, description: d, formula: f, units: percent, direction: higher,
     target: 90, critical_threshold: 95, owner_role: Ops, dimension: none, weight: 0}
""",
        encoding="utf-8",
    )
    with pytest.raises(ValidationError, match="'bad-kpi'.*critical_threshold"):
        load_catalogue(path=catalogue)
    assert not KpiDefinition.objects.exists()
