"""Proposals in the admin: score-moving saves become proposals; approvers approve or reject them from the pending list."""

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.auth.models import Group
from django.urls import reverse

from kpis import roles, services
from kpis.history import change_log
from kpis.models import KpiChangeProposal
from tests.helpers import member_of, stored
from tests.kpis.factories import KpiDefinitionFactory
from tests.kpis.helpers import admin_form_data

pytestmark = pytest.mark.django_db

PENDING_LIST = reverse("admin:kpis_kpichangeproposal_changelist")


@pytest.fixture
def mttr(alice):
    return KpiDefinitionFactory(slug="mttr", target=30, critical_threshold=60, owner=alice)


def change_url(kpi):
    return reverse("admin:kpis_kpidefinition_change", args=[kpi.pk])


def form_data(kpi, **overrides):
    return admin_form_data(kpi, with_owner=False, **overrides)


def decide(client, action, proposals, **fields):
    return client.post(
        PENDING_LIST,
        {"action": action, ACTION_CHECKBOX_NAME: [proposal.pk for proposal in proposals], "apply": "1", **fields},
        follow=True,
    )


def test_an_owners_target_change_in_the_form_becomes_a_proposal_shown_on_the_definition_page(client, alice, mttr):
    client.force_login(alice)
    response = client.post(change_url(mttr), form_data(mttr, target=25, change_reason="Tighter goal"), follow=True)
    proposal = KpiChangeProposal.objects.get()
    assert (proposal.author, proposal.changes) == (alice, {"target": {"old": 30.0, "new": 25.0}})
    assert stored(mttr).target == 30
    page = response.content.decode()
    assert f"is proposal #{proposal.pk}: it is not in force until a KPI approver other than you approves it" in page
    assert f"Pending proposal #{proposal.pk}" in page
    assert "<strong>target</strong>: 30.0 &rarr; 25.0" in page
    detail = client.get(reverse("admin:kpis_kpichangeproposal_change", args=[proposal.pk]))
    assert detail.status_code == 200
    assert "Tighter goal" in detail.content.decode()


def test_a_second_proposal_in_the_form_is_refused_naming_the_first(client, alice, mttr):
    first = services.propose_change(mttr, actor=alice, reason="Tighter goal", target=25).proposal
    client.force_login(alice)
    response = client.post(change_url(mttr), form_data(mttr, weight=3, change_reason="More weight"))
    assert response.status_code == 200
    assert f"open proposal #{first.pk} by alice (Tighter goal)" in " ".join(response.context["adminform"].form.non_field_errors())
    assert KpiChangeProposal.objects.count() == 1
    assert stored(mttr).weight == 1


def test_a_revert_of_a_target_in_the_admin_becomes_a_proposal(client, superuser, alice, mttr):
    services.change_definition(mttr, actor=None, reason="Tighten", target=25)
    client.force_login(superuser)
    version = reverse("admin:kpis_kpidefinition_simple_history", args=[mttr.pk, mttr.history.earliest().history_id])
    response = client.post(version, {"change_reason": "Too early"}, follow=True)
    proposal = KpiChangeProposal.objects.get()
    assert (proposal.reason, proposal.changes) == ("Reverted to version 1: Too early", {"target": {"old": 25.0, "new": 30.0}})
    assert f"The revert of target of mttr is proposal #{proposal.pk}" in response.content.decode()
    assert stored(mttr).target == 25


def test_the_pending_list_shows_open_proposals_with_their_diffs(client, alice, bob, mttr):
    decided = services.propose_change(mttr, actor=alice, reason="Looser goal", target=45, critical_threshold=90).proposal
    services.reject_proposal(decided, approver=bob, comment="No")
    pending = services.propose_change(mttr, actor=alice, reason="Tighter goal", target=25).proposal
    client.force_login(bob)
    response = client.get(PENDING_LIST)
    assert [proposal.pk for proposal in response.context["cl"].result_list] == [pending.pk]
    assert "<strong>target</strong>: 30.0 &rarr; 25" in response.content.decode()
    everything = client.get(PENDING_LIST, {"status": "all"})
    assert {proposal.pk for proposal in everything.context["cl"].result_list} == {pending.pk, decided.pk}


def test_an_approver_approves_from_the_list_with_a_comment(client, alice, bob, mttr):
    proposal = services.propose_change(mttr, actor=alice, reason="Tighter P1 goal", target=25).proposal
    client.force_login(bob)
    asked = client.post(PENDING_LIST, {"action": "approve", ACTION_CHECKBOX_NAME: [proposal.pk]})
    assert asked.status_code == 200
    assert "Tighter P1 goal" in asked.content.decode()
    assert stored(mttr).target == 30

    response = decide(client, "approve", [proposal], comment="agreed at ops review")
    assert f"Approved proposal #{proposal.pk} (mttr)." in response.content.decode()
    assert stored(mttr).target == 25
    latest = change_log(mttr)[-1]
    assert (latest.user, latest.reason) == ("bob", f"Proposal #{proposal.pk} by alice (Tighter P1 goal), approved by bob: agreed at ops review")


def test_an_approver_rejects_from_the_list_and_nothing_changes(client, alice, bob, mttr):
    proposal = services.propose_change(mttr, actor=alice, reason="Looser goal", target=45, critical_threshold=90).proposal
    client.force_login(bob)
    decide(client, "reject", [proposal], comment="Not without data")
    proposal.refresh_from_db()
    assert (proposal.status, proposal.decision_comment) == ("rejected", "Not without data")
    assert (stored(mttr).target, stored(mttr).critical_threshold) == (30, 60)
    assert mttr.history.count() == 1


def test_self_approval_in_the_admin_is_refused_with_a_message(client, alice, mttr):
    alice.groups.add(Group.objects.get(name=roles.KPI_APPROVERS))
    proposal = services.propose_change(mttr, actor=alice, reason="Tighter goal", target=25).proposal
    client.force_login(alice)
    response = decide(client, "approve", [proposal], comment="Fine by me")
    assert f"Proposal #{proposal.pk} (mttr): Proposal #{proposal.pk} is your own" in response.content.decode()
    assert stored(mttr).target == 30


def test_a_superusers_emergency_self_approval_is_listed_for_auditors(client, superuser, mttr):
    proposal = services.propose_change(mttr, actor=superuser, reason="Stop the paging", critical_threshold=90).proposal
    client.force_login(superuser)
    decide(client, "approve", [proposal], comment="Urgent", emergency_reason="Pager storm, no approver awake")
    assert stored(mttr).critical_threshold == 90
    client.force_login(member_of(roles.AUDITORS, "audrey"))
    listed = client.get(PENDING_LIST, {"status": "all", "emergency": "yes"})
    assert listed.status_code == 200
    assert [row.pk for row in listed.context["cl"].result_list] == [proposal.pk]
    assert 'value="approve"' not in listed.content.decode()


def test_approve_and_reject_are_offered_to_approvers_and_not_to_owners(client, alice, bob, mttr):
    proposal = services.propose_change(mttr, actor=alice, reason="Tighter goal", target=25).proposal
    client.force_login(alice)
    assert 'value="approve"' not in client.get(PENDING_LIST).content.decode()
    decide(client, "approve", [proposal], comment="Sneaking it in")
    assert stored(mttr).target == 30
    client.force_login(bob)
    page = client.get(PENDING_LIST).content.decode()
    assert 'value="approve"' in page and 'value="reject"' in page
