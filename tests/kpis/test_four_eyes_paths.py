"""
No path moves a goalpost without a second person: activating a definition, changing its PromQL or Prometheus and
reverting its score-moving fields are proposals that change nothing until another person approves them.
"""

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.urls import reverse

from kpis import services
from kpis.models import KpiChangeProposal
from tests.kpis.factories import KpiDefinitionFactory
from tests.helpers import client_for, stored
from tests.kpis.helpers import admin_form_data, prometheus_at

pytestmark = pytest.mark.django_db

PENDING_LIST = reverse("admin:kpis_kpichangeproposal_changelist")


def change_url(kpi):
    return reverse("admin:kpis_kpidefinition_change", args=[kpi.pk])


def form_data(kpi, **overrides):
    return admin_form_data(kpi, with_owner=False, **overrides)


def approve_in_admin(client, proposal):
    return client.post(
        PENDING_LIST,
        {"action": "approve", ACTION_CHECKBOX_NAME: [proposal.pk], "apply": "1", "comment": "Checked with the owner"},
        follow=True,
    )


@pytest.fixture
def toil_draft(alice):
    return KpiDefinitionFactory(slug="toil-ratio", status="draft", owner=alice, weight=5, dimension="efficiency")


def test_activating_a_draft_through_the_api_is_a_proposal_that_changes_nothing_until_a_second_person_approves(
    toil_draft, alice, bob
):
    owner = client_for(alice)
    response = owner.patch("/api/kpis/toil-ratio/", {"status": "active", "weight": 80, "change_reason": "Ready to score"}, format="json")
    assert response.status_code == 202, response.json()
    proposal = response.json()
    assert proposal["changes"] == {"status": {"old": "draft", "new": "active"}, "weight": {"old": 5.0, "new": 80.0}}
    shown = owner.get("/api/kpis/toil-ratio/").json()
    assert (shown["status"], shown["weight"]) == ("draft", 5.0)

    own = owner.post(f"/api/proposals/{proposal['id']}/approve/", {"comment": "Mine is fine"}, format="json")
    assert own.status_code == 403
    assert owner.get("/api/kpis/toil-ratio/").json()["status"] == "draft"

    approved = client_for(bob).post(f"/api/proposals/{proposal['id']}/approve/", {"comment": "Agreed"}, format="json")
    assert approved.status_code == 200, approved.json()
    shown = owner.get("/api/kpis/toil-ratio/").json()
    assert (shown["status"], shown["weight"]) == ("active", 80.0)


def test_a_draft_awaiting_its_activation_refuses_other_score_moving_edits_naming_the_proposal(toil_draft, alice):
    owner = client_for(alice)
    proposal = owner.patch("/api/kpis/toil-ratio/", {"status": "active", "change_reason": "Ready"}, format="json").json()
    response = owner.patch("/api/kpis/toil-ratio/", {"weight": 100, "change_reason": "Matters more"}, format="json")
    assert response.status_code == 409
    assert f"open proposal #{proposal['id']} by alice" in response.json()["error"]["message"]
    renamed = owner.patch("/api/kpis/toil-ratio/", {"name": "Toil", "change_reason": "Clearer"}, format="json")
    assert renamed.status_code == 200
    assert (stored(toil_draft).weight, stored(toil_draft).name) == (5, "Toil")


def test_a_definition_added_as_active_in_the_admin_is_saved_as_a_draft_with_its_activation_proposed(client, superuser, bob):
    client.force_login(superuser)
    data = {
        "slug": "toil-ratio", "name": "Toil ratio", "description": "Share of manual work", "formula": "toil / work",
        "units": "percent", "direction": "lower", "target": 20, "critical_threshold": 50, "targets": "{}",
        "visibility": "exec", "owner_role": "Ops Leader", "review_cadence": "quarterly", "dimension": "efficiency",
        "weight": 30, "status": "active", "breach_after": "0", "retention_class": "business", "promql": "",
        "change_reason": "New KPI from the ops review",
    }
    response = client.post(reverse("admin:kpis_kpidefinition_add"), data, follow=True)
    proposal = KpiChangeProposal.objects.get()
    assert f"Added toil-ratio as a draft. The change of status of toil-ratio is proposal #{proposal.pk}" in response.content.decode()
    assert proposal.changes == {"status": {"old": "draft", "new": "active"}}
    assert stored(proposal.kpi).status == "draft"

    client.force_login(bob)
    approve_in_admin(client, proposal)
    assert stored(proposal.kpi).status == "active"


def test_a_promql_change_in_the_admin_is_a_proposal_that_changes_nothing_until_approved(client, alice, bob):
    kpi = KpiDefinitionFactory(slug="slo-attainment", owner=alice, promql="avg(slo:attainment:ratio)")
    client.force_login(alice)
    response = client.post(change_url(kpi), form_data(kpi, promql="1", change_reason="Always perfect"), follow=True)
    proposal = KpiChangeProposal.objects.get()
    assert f"The change of promql of slo-attainment is proposal #{proposal.pk}" in response.content.decode()
    assert stored(kpi).promql == "avg(slo:attainment:ratio)"

    client.force_login(bob)
    approve_in_admin(client, proposal)
    assert stored(kpi).promql == "1"


def test_choosing_the_prometheus_of_an_active_definition_is_a_proposal_applied_on_approval(client, alice, bob):
    kpi = KpiDefinitionFactory(slug="slo-attainment", owner=alice, promql="avg(slo:attainment:ratio)")
    prometheus = prometheus_at("http://prometheus.example.com:9090")
    client.force_login(alice)
    client.post(change_url(kpi), form_data(kpi, prometheus=prometheus.pk, change_reason="Collect it hourly"))
    proposal = KpiChangeProposal.objects.get()
    assert proposal.changes == {"prometheus": {"old": None, "new": prometheus.pk}}
    assert stored(kpi).prometheus is None

    client.force_login(bob)
    approve_in_admin(client, proposal)
    assert stored(kpi).prometheus == prometheus


def test_a_revert_in_the_admin_is_a_proposal_and_keeps_the_owner_of_now(client, superuser, alice, bob):
    kpi = KpiDefinitionFactory(slug="mttr", target=30, critical_threshold=60, owner=superuser)
    first = kpi.history.get()
    services.propose_change(kpi, actor=superuser, reason="Alice owns it now", owner=alice)
    proposal = services.propose_change(kpi, actor=alice, reason="Tighter goal", target=25).proposal
    services.approve_proposal(proposal, approver=bob, comment="Agreed")

    client.force_login(superuser)
    version_url = reverse("admin:kpis_kpidefinition_simple_history", args=[kpi.pk, first.history_id])
    preview = client.get(version_url)
    assert [change.field for change in preview.context["revert_changes"]] == ["target"]
    client.post(version_url, {"change_reason": "The old goal was right"}, follow=True)
    revert = KpiChangeProposal.objects.open().get()
    assert revert.changes == {"target": {"old": 25.0, "new": 30.0}}
    assert (stored(kpi).target, stored(kpi).owner) == (25, alice)

    client.force_login(bob)
    approve_in_admin(client, revert)
    assert (stored(kpi).target, stored(kpi).owner) == (30, alice)


def test_reverting_a_retired_definition_to_an_active_version_is_a_proposal(alice, bob):
    kpi = KpiDefinitionFactory(slug="mttr", owner=alice)
    active = kpi.history.get()
    services.approve_proposal(services.propose_change(kpi, actor=alice, reason="Pause", status="retired").proposal, approver=bob, comment="Ok")
    outcome = services.revert_definition(stored(kpi), active.history_id, actor=alice, reason="Back in use")
    assert outcome.proposal.changes == {"status": {"old": "retired", "new": "active"}}
    assert stored(kpi).status == "retired"
