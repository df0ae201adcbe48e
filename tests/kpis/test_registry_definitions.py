"""The registry's rules for a definition, whatever path writes it: valid fields, fixed slugs, a reason for every change."""
import pytest
from django.core.exceptions import ValidationError

from kpis import services
from kpis.models import KpiDefinition
from tests.companyos.factories import UserFactory
from tests.kpis.factories import KpiDefinitionFactory

pytestmark = pytest.mark.django_db


def valid_fields(**overrides):
    fields = dict(
        slug="cadence-adherence",
        name="Update Cadence Adherence",
        description="Milestones delivered on time.",
        formula="on_time / total x 100",
        units="percent",
        direction="higher",
        target=90,
        critical_threshold=75,
        owner_role="Comms Lead",
        dimension="none",
        weight=0,
    )
    return {**fields, **overrides}


@pytest.mark.parametrize("slug", ["Cadence", "cadence_adherence", "cadence--adherence", "-mttr", "mttr-", "m ttr", ""])
def test_a_slug_that_is_not_lowercase_words_joined_by_single_hyphens_is_refused(slug):
    with pytest.raises(ValidationError) as refused:
        services.create_definition(actor=None, reason="New KPI", **valid_fields(slug=slug))
    assert "slug" in refused.value.message_dict
    assert not KpiDefinition.objects.exists()


def test_a_slug_of_lowercase_words_digits_and_hyphens_is_accepted():
    kpi = services.create_definition(actor=None, reason="New KPI", **valid_fields(slug="p1-incident-count"))
    assert KpiDefinition.objects.get(pk=kpi.pk).slug == "p1-incident-count"


def test_two_definitions_cannot_share_a_slug():
    services.create_definition(actor=None, reason="New KPI", **valid_fields())
    with pytest.raises(ValidationError) as refused:
        services.create_definition(actor=None, reason="Again", **valid_fields(name="Other"))
    assert "slug" in refused.value.message_dict
    assert KpiDefinition.objects.count() == 1


def test_a_slug_cannot_change_once_created():
    kpi = KpiDefinitionFactory(slug="mttr")
    with pytest.raises(ValidationError) as refused:
        services.change_definition(kpi, actor=None, reason="Rename", slug="mean-time-to-resolve")
    assert "slug" in refused.value.message_dict
    assert KpiDefinition.objects.filter(slug="mttr").exists()
    assert not KpiDefinition.objects.filter(slug="mean-time-to-resolve").exists()


@pytest.mark.parametrize(
    "overrides, field",
    [
        ({"direction": "higher", "target": 90, "critical_threshold": 95}, "critical_threshold"),
        ({"direction": "lower", "units": "minutes", "target": 30, "critical_threshold": 20}, "critical_threshold"),
        ({"weight": -1, "dimension": "reliability"}, "weight"),
        ({"targets": {"P9": {"target": 10}}}, "targets"),
        ({"targets": {"P1": {"target": 80, "critical": 95}}}, "targets"),
        ({"units": "furlongs"}, "units"),
    ],
)
def test_an_invalid_definition_is_refused_with_a_message_naming_the_field(overrides, field):
    with pytest.raises(ValidationError) as refused:
        services.create_definition(actor=None, reason="New KPI", **valid_fields(**overrides))
    assert field in refused.value.message_dict
    assert not KpiDefinition.objects.exists()


def test_an_unknown_severity_in_targets_is_named_in_the_message():
    with pytest.raises(ValidationError) as refused:
        services.create_definition(actor=None, reason="New KPI", **valid_fields(targets={"P9": {"target": 10}}))
    assert "P9" in " ".join(refused.value.message_dict["targets"])


@pytest.mark.parametrize("reason", ["", "   ", None])
def test_a_reason_is_required_to_change_a_definition(reason):
    kpi = KpiDefinitionFactory(slug="mttr", target=30, critical_threshold=60)
    with pytest.raises(ValidationError) as refused:
        services.change_definition(kpi, actor=None, reason=reason, target=25)
    assert "change_reason" in refused.value.message_dict
    assert KpiDefinition.objects.get(pk=kpi.pk).target == 30
    assert kpi.history.count() == 1


def test_a_reason_is_required_to_create_a_definition():
    with pytest.raises(ValidationError) as refused:
        services.create_definition(actor=None, reason="", **valid_fields())
    assert "change_reason" in refused.value.message_dict
    assert not KpiDefinition.objects.exists()


def test_a_change_records_who_and_why_in_the_history():
    editor = UserFactory(username="olivia")
    kpi = KpiDefinitionFactory(slug="mttr", target=30, critical_threshold=60)
    services.change_definition(kpi, actor=editor, reason="Tighten after Q3 review", target=25)
    latest = kpi.history.latest()
    assert (latest.history_user, latest.history_change_reason, latest.target) == (editor, "Tighten after Q3 review", 25)


def test_a_change_that_changes_nothing_adds_no_history():
    kpi = KpiDefinitionFactory(slug="mttr", target=30, critical_threshold=60)
    services.change_definition(kpi, actor=None, reason="No-op", target=30)
    assert kpi.history.count() == 1
