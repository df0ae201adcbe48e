"""
Every number of a definition has bounds, kept by model validation wherever a definition or a proposal is written:
the API answers 400 naming the field, the admin shows the error at the field, and nothing is stored.
"""
import datetime
import json

import pytest
from django.core.exceptions import ValidationError
from django.forms.models import model_to_dict
from django.urls import reverse

from kpis import services
from kpis.models import KpiChangeProposal
from tests.kpis.factories import KpiDefinitionFactory
from tests.kpis.helpers import admin_form_data
from tests.helpers import client_for, stored

pytestmark = pytest.mark.django_db


@pytest.fixture
def mttr(alice):
    return KpiDefinitionFactory(slug="mttr", target=30, critical_threshold=60, owner=alice, weight=20)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("weight", 150, "weight: weight must be between 0 and 100."),
        ("weight", -1, "weight: weight must be between 0 and 100."),
        ("target", 1e308, "target: target must be between -1e+12 and 1e+12."),
        ("critical_threshold", -1e13, "critical_threshold: critical_threshold must be between -1e+12 and 1e+12."),
        ("breach_after", "P91D", "breach_after: breach_after must be between 0 days and 90 days."),
        ("breach_after", "-PT5M", "breach_after: breach_after must be between 0 days and 90 days."),
        ("targets", {"P1": {"target": 1e308, "critical": 240}}, "targets: targets.P1.target must be between -1e+12 and 1e+12."),
        ("targets", {"P1": {"target": True}}, "targets: targets.P1.target must be a number."),
        ("targets", {"P1": {"target": 20, "warning": 40}}, "targets: targets.P1 holds only target and critical, not warning."),
        ("targets", {"P9": {"target": 20}}, "targets: Unknown severity or persona 'P9' in targets"),
        ("targets", [20, 40], "targets: Targets must be an object"),
    ],
)
def test_an_out_of_bounds_value_is_a_400_naming_the_field_and_changes_nothing(mttr, alice, field, value, message):
    response = client_for(alice).patch("/api/kpis/mttr/", {field: value, "change_reason": "Try it"}, format="json")
    assert response.status_code == 400, response.json()
    error = response.json()["error"]
    assert error["message"].startswith(message)
    assert list(error["fields"]) == [field]
    assert not KpiChangeProposal.objects.exists()
    assert model_to_dict(stored(mttr)) == model_to_dict(mttr)


def test_a_number_too_large_for_a_float_is_a_400_naming_the_field(mttr, alice):
    body = b'{"weight": 1e309, "change_reason": "Overflow"}'
    response = client_for(alice).patch("/api/kpis/mttr/", body, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["error"]["message"].startswith("weight: ")


def test_a_draft_keeps_the_bounds_too(alice):
    KpiDefinitionFactory(slug="toil-ratio", status="draft", owner=alice)
    response = client_for(alice).patch("/api/kpis/toil-ratio/", {"weight": 101, "change_reason": "Try"}, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["message"] == "weight: weight must be between 0 and 100."


def test_the_bounds_themselves_are_accepted(mttr, alice):
    response = client_for(alice).patch(
        "/api/kpis/mttr/",
        {"weight": 100, "breach_after": "P90D", "targets": {"P1": {"target": 0, "critical": 1e12}}, "change_reason": "Edges"},
        format="json",
    )
    assert response.status_code == 202, response.json()
    assert set(response.json()["changes"]) == {"weight", "breach_after", "targets"}


def test_a_proposal_made_through_the_service_is_refused_out_of_bounds_naming_the_field(mttr, alice):
    with pytest.raises(ValidationError) as refused:
        services.propose_change(mttr, actor=alice, reason="Huge", weight=1e308)
    assert refused.value.message_dict == {"weight": ["weight must be between 0 and 100."]}
    with pytest.raises(ValidationError) as refused:
        services.propose_change(mttr, actor=alice, reason="A quarter and more", breach_after=datetime.timedelta(days=91))
    assert list(refused.value.message_dict) == ["breach_after"]
    assert not KpiChangeProposal.objects.exists()


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("weight", "150", "weight must be between 0 and 100."),
        ("breach_after", "91 00:00:00", "breach_after must be between 0 days and 90 days."),
        ("targets", json.dumps({"P1": {"target": "fast"}}), "targets.P1.target must be a number."),
    ],
)
def test_an_out_of_bounds_value_in_the_admin_is_a_form_error_at_the_field(client, alice, mttr, field, value, message):
    client.force_login(alice)
    data = admin_form_data(mttr, change_reason="Try it", **{field: value})
    response = client.post(reverse("admin:kpis_kpidefinition_change", args=[mttr.pk]), data)
    assert response.status_code == 200
    assert response.context["adminform"].form.errors[field] == [message]
    assert not KpiChangeProposal.objects.exists()
