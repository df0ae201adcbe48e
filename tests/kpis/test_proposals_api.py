"""Proposals through the API: a score-moving PATCH answers 202 with a proposal; approve and reject by a second person."""
import pytest
from django.contrib.auth.models import Group
from django.core import mail

from kpis import roles, services
from kpis.history import change_log
from kpis.models import KpiChangeProposal
from tests.helpers import client_for, member_of, stored
from tests.kpis.factories import KpiDefinitionFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def mttr(alice):
    return KpiDefinitionFactory(slug="mttr", target=30, critical_threshold=60, owner=alice, visibility="internal")


def test_a_target_patch_answers_202_with_a_proposal_and_applies_other_fields_at_once(mttr, alice):
    response = client_for(alice).patch(
        "/api/kpis/mttr/", {"target": 25, "name": "Time to resolve", "change_reason": "Tighter goal"}, format="json"
    )
    assert response.status_code == 202, response.json()
    body = response.json()
    assert (body["kpi"], body["status"], body["author"], body["reason"]) == ("mttr", "open", "alice", "Tighter goal")
    assert body["changes"] == {"target": {"old": 30.0, "new": 25.0}}
    assert (stored(mttr).target, stored(mttr).name) == (30, "Time to resolve")
    assert client_for(alice).get("/api/kpis/mttr/").json()["target"] == 30


def test_a_second_proposal_is_a_409_naming_the_open_one(mttr, alice, superuser):
    first = client_for(alice).patch("/api/kpis/mttr/", {"target": 25, "change_reason": "Tighter goal"}, format="json").json()
    response = client_for(superuser).post("/api/kpis/mttr/proposals/", {"weight": 2, "change_reason": "Matters more"}, format="json")
    assert response.status_code == 409
    assert f"open proposal #{first['id']} by alice" in response.json()["error"]["message"]


def test_posting_a_proposal_accepts_only_score_moving_fields_of_an_active_definition(mttr, alice):
    client = client_for(alice)
    immediate = client.post("/api/kpis/mttr/proposals/", {"name": "X", "change_reason": "Rename"}, format="json")
    assert immediate.status_code == 400
    assert immediate.json()["error"]["message"].startswith("name: 'name' needs no approval")
    KpiDefinitionFactory(slug="toil-ratio", status="draft", owner=alice)
    draft = client.post("/api/kpis/toil-ratio/proposals/", {"target": 10, "change_reason": "Goal"}, format="json")
    assert draft.status_code == 400
    assert "'toil-ratio' is draft" in draft.json()["error"]["message"]
    same = client.post("/api/kpis/mttr/proposals/", {"target": 30, "change_reason": "Same"}, format="json")
    assert same.status_code == 400
    assert "'mttr' already has these values" in same.json()["error"]["message"]

    created = client.post("/api/kpis/mttr/proposals/", {"weight": 2, "change_reason": "Matters more"}, format="json")
    assert created.status_code == 201
    listed = client.get("/api/kpis/mttr/proposals/").json()
    assert [(proposal["id"], proposal["changes"]) for proposal in listed] == [(created.json()["id"], {"weight": {"old": 1.0, "new": 2.0}})]


def test_only_the_owner_may_propose(mttr):
    response = client_for(member_of(roles.KPI_OWNERS, "olivia")).post(
        "/api/kpis/mttr/proposals/", {"target": 25, "change_reason": "Not mine"}, format="json"
    )
    assert response.status_code == 403
    assert not KpiChangeProposal.objects.exists()


def test_an_approver_approves_through_the_api_and_the_change_is_in_force(mttr, alice, bob, django_capture_on_commit_callbacks):
    proposal = client_for(alice).patch("/api/kpis/mttr/", {"target": 25, "change_reason": "Tighter goal"}, format="json").json()
    pending = client_for(bob).get("/api/proposals/", {"status": "open"}).json()["results"]
    assert [row["id"] for row in pending] == [proposal["id"]]
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(bob).post(f"/api/proposals/{proposal['id']}/approve/", {"comment": "Agreed at ops review"}, format="json")
    assert response.status_code == 200, response.json()
    assert (response.json()["status"], response.json()["decided_by"]) == ("approved", "bob")
    assert client_for(alice).get("/api/kpis/mttr/").json()["target"] == 25
    latest = change_log(mttr)[-1]
    assert (latest.user, latest.proposal) == ("bob", proposal["id"])
    assert latest.reason == f"Proposal #{proposal['id']} by alice (Tighter goal), approved by bob: Agreed at ops review"
    assert [message.to for message in mail.outbox] == [["alice@example.com"]]
    assert client_for(bob).get("/api/proposals/", {"status": "open"}).json()["results"] == []


def test_self_approval_through_the_api_is_a_403_and_changes_nothing(mttr, alice):
    alice.groups.add(Group.objects.get(name=roles.KPI_APPROVERS))
    proposal = client_for(alice).patch("/api/kpis/mttr/", {"target": 25, "change_reason": "Tighter goal"}, format="json").json()
    response = client_for(alice).post(f"/api/proposals/{proposal['id']}/approve/", {"comment": "Fine by me"}, format="json")
    assert response.status_code == 403
    assert "your own" in response.json()["error"]["message"]
    assert stored(mttr).target == 30


def test_a_superuser_self_approves_through_the_api_only_with_an_emergency_reason(mttr, superuser):
    proposal = client_for(superuser).patch("/api/kpis/mttr/", {"critical_threshold": 90, "change_reason": "Noise"}, format="json").json()
    url = f"/api/proposals/{proposal['id']}/approve/"
    refused = client_for(superuser).post(url, {"comment": "Urgent"}, format="json")
    assert refused.status_code == 400
    assert refused.json()["error"]["message"].startswith("emergency_reason:")
    approved = client_for(superuser).post(url, {"comment": "Urgent", "emergency_reason": "Pager storm"}, format="json")
    assert approved.status_code == 200
    assert approved.json()["emergency_reason"] == "Pager storm"
    assert stored(mttr).critical_threshold == 90


def test_rejecting_through_the_api_leaves_the_definition_unchanged_and_cannot_be_repeated(mttr, alice, bob):
    proposal = client_for(alice).patch("/api/kpis/mttr/", {"target": 45, "change_reason": "Looser"}, format="json").json()
    url = f"/api/proposals/{proposal['id']}/reject/"
    no_comment = client_for(bob).post(url, {}, format="json")
    assert no_comment.status_code == 400
    assert no_comment.json()["error"]["message"].startswith("comment:")
    response = client_for(bob).post(url, {"comment": "Not without data"}, format="json")
    assert response.status_code == 200
    assert (response.json()["status"], response.json()["decision_comment"]) == ("rejected", "Not without data")
    assert stored(mttr).target == 30
    again = client_for(bob).post(f"/api/proposals/{proposal['id']}/approve/", {"comment": "Changed my mind"}, format="json")
    assert again.status_code == 409
    assert stored(mttr).target == 30


def test_proposals_are_not_for_executives_and_an_unknown_proposal_is_a_404(mttr, bob):
    executive = client_for(member_of(roles.EXECUTIVES, "erin"))
    assert executive.get("/api/proposals/").status_code == 403
    missing = client_for(bob).post("/api/proposals/999999/approve/", {"comment": "?"}, format="json")
    assert missing.status_code == 404
    assert missing.json()["error"]["message"] == "No proposal has the id 999999."


def test_admin_and_api_paths_behave_alike(client, mttr, alice, bob):
    """The same proposal made in the admin and through the API is recorded, refused and approved alike."""
    client.force_login(alice)
    admin_form = {
        "name": mttr.name, "description": mttr.description, "formula": mttr.formula, "units": mttr.units,
        "direction": mttr.direction, "target": 25, "critical_threshold": 60, "targets": "{}", "breach_after": "0",
        "data_sources": "", "visibility": mttr.visibility, "owner_role": mttr.owner_role,
        "review_cadence": mttr.review_cadence, "dimension": mttr.dimension, "weight": 1, "status": "active",
        "retention_class": mttr.retention_class, "change_reason": "Tighter goal",
    }
    assert client.post(f"/admin/kpis/kpidefinition/{mttr.pk}/change/", admin_form).status_code == 302
    by_admin = KpiChangeProposal.objects.get()
    api = client_for(alice).patch("/api/kpis/mttr/", {"target": 25, "change_reason": "Tighter goal"}, format="json")
    assert api.status_code == 409
    services.reject_proposal(by_admin, approver=bob, comment="Try the API")
    by_api = client_for(alice).patch("/api/kpis/mttr/", {"target": 25, "change_reason": "Tighter goal"}, format="json").json()
    assert by_api["changes"] == by_admin.changes
    assert (by_api["author"], by_api["reason"]) == (by_admin.author.username, by_admin.reason)
    assert stored(mttr).target == 30
