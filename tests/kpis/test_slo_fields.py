"""A definition's SLO: all four fields or none, each within its bounds, proposed and read through the API like any field."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from kpis import services
from kpis.models import KpiChangeProposal
from tests.helpers import client_for, stored
from tests.kpis.factories import KpiDefinitionFactory
from tests.kpis.helpers import admin_form_data
from tests.kpis.helpers import AVAILABILITY_SLO, slo_definition

pytestmark = pytest.mark.django_db


@pytest.fixture
def availability(alice):
    return KpiDefinitionFactory(slug="checkout-availability", units="percent", direction="higher", target=99.9,
                                critical_threshold=99.5, owner=alice)


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"slo_objective": 100}, "slo_objective", "slo_objective must be a percentage strictly between 0 and 100"),
        ({"slo_objective": 0}, "slo_objective", "slo_objective must be a percentage strictly between 0 and 100"),
        ({"slo_objective": float("nan")}, "slo_objective", "slo_objective must be a percentage strictly between 0 and 100"),
        ({"slo_period_days": 0}, "slo_period_days", "slo_period_days must be between 1 and 365 days."),
        ({"slo_period_days": 366}, "slo_period_days", "slo_period_days must be between 1 and 365 days."),
        ({"sli_good_promql": ""}, "sli_good_promql", "An SLO needs its objective, period and good and total PromQL together"),
        ({"sli_total_promql": "sum(rate(http_requests_total[5m]))"}, "sli_total_promql",
         "sli_total_promql must be a counter's selector without a range or function"),
    ],
)
def test_an_slo_out_of_its_bounds_is_refused_naming_the_field(availability, fields, field, message):
    with pytest.raises(ValidationError) as refused:
        services.change_definition(availability, actor=None, reason="Give it an SLO", **{**AVAILABILITY_SLO, **fields})
    assert list(refused.value.message_dict) == [field]
    assert refused.value.message_dict[field][0].startswith(message)
    assert stored(availability).slo_objective is None


def test_a_half_given_slo_names_every_missing_field(availability):
    with pytest.raises(ValidationError) as refused:
        services.change_definition(availability, actor=None, reason="Objective only", slo_objective=99.9)
    assert set(refused.value.message_dict) == {"slo_period_days", "sli_good_promql", "sli_total_promql"}


def test_the_slo_bounds_themselves_are_accepted(availability):
    kpi = services.change_definition(
        availability, actor=None, reason="Edges", **{**AVAILABILITY_SLO, "slo_objective": 0.001, "slo_period_days": 365}
    )
    assert (kpi.slo_objective, kpi.slo_period_days) == (0.001, 365)
    kpi = services.change_definition(kpi, actor=None, reason="Edges", slo_objective=99.999, slo_period_days=1)
    assert (kpi.slo_objective, kpi.slo_period_days) == (99.999, 1)


def test_an_slo_patched_through_the_api_is_a_proposal_and_is_read_back_once_approved(availability, alice, bob):
    response = client_for(alice).patch(
        "/api/kpis/checkout-availability/", {**AVAILABILITY_SLO, "change_reason": "Page on burn"}, format="json"
    )
    assert response.status_code == 202, response.json()
    assert set(response.json()["changes"]) == set(AVAILABILITY_SLO)
    assert client_for(alice).get("/api/kpis/checkout-availability/").json()["slo_objective"] is None

    services.approve_proposal(KpiChangeProposal.objects.get(), approver=bob, comment="Agreed with SRE")
    body = client_for(alice).get("/api/kpis/checkout-availability/").json()
    assert {field: body[field] for field in AVAILABILITY_SLO} == AVAILABILITY_SLO


def test_an_out_of_bounds_slo_through_the_api_is_a_400_naming_the_field(availability, alice):
    response = client_for(alice).patch(
        "/api/kpis/checkout-availability/",
        {**AVAILABILITY_SLO, "slo_objective": 100, "change_reason": "No budget"},
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["error"]["message"].startswith("slo_objective: slo_objective must be a percentage")
    assert not KpiChangeProposal.objects.exists()


def test_clearing_an_slo_clears_all_four_fields(alice):
    kpi = slo_definition(status="draft", owner=alice)
    kpi = services.change_definition(
        kpi, actor=None, reason="No SLO", slo_objective=None, slo_period_days=None, sli_good_promql="", sli_total_promql=""
    )
    assert kpi.slo_objective is None


def admin_form(kpi, **overrides):
    return admin_form_data(kpi, with_owner=True, **overrides)


def test_the_admin_form_keeps_the_slo_fields_and_shows_a_bound_at_its_field(client, superuser, alice):
    kpi = KpiDefinitionFactory(slug="checkout-availability", units="percent", direction="higher", target=99.9,
                               critical_threshold=99.5, owner=alice, status="draft")
    client.force_login(superuser)
    url = reverse("admin:kpis_kpidefinition_change", args=[kpi.pk])
    page = client.get(url)
    assert b"SLO" in page.content and b"sli_good_promql" in page.content

    refused = client.post(url, admin_form(kpi, **{**AVAILABILITY_SLO, "slo_period_days": 400}, change_reason="SLO"))
    assert refused.status_code == 200
    assert refused.context["adminform"].form.errors["slo_period_days"] == ["slo_period_days must be between 1 and 365 days."]

    saved = client.post(url, admin_form(kpi, **AVAILABILITY_SLO, change_reason="SLO"))
    assert saved.status_code == 302
    assert (stored(kpi).slo_objective, stored(kpi).sli_total_promql) == (99.9, AVAILABILITY_SLO["sli_total_promql"])
