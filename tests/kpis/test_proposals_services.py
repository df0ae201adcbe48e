"""Four-eyes approval: score-moving changes to an active definition are proposals until a second person approves them."""
import datetime

import pytest
from django.contrib.auth.models import Group
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError

from kpis import roles, services
from kpis.history import change_log
from kpis.models import KpiChangeProposal
from scoring.models import ScoreSnapshot
from scoring.services import compute_snapshots
from tests.helpers import member_of, stored
from tests.kpis.factories import KpiDefinitionFactory, ObservationFactory
from tests.tenancy.factories import CompanyFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def mttr(alice):
    return KpiDefinitionFactory(slug="mttr", target=30, critical_threshold=60, owner=alice)


def test_a_target_change_by_the_owner_is_a_proposal_and_not_in_force_until_approved(mttr, alice, bob):
    outcome = services.propose_change(mttr, actor=alice, reason="Tighter goal", target=25)
    proposal = outcome.proposal
    assert (proposal.status, proposal.author, proposal.reason) == ("open", alice, "Tighter goal")
    assert proposal.changes == {"target": {"old": 30.0, "new": 25}}
    assert proposal.base_history_id == mttr.history.get().history_id
    assert stored(mttr).target == 30
    assert mttr.history.count() == 1

    services.approve_proposal(proposal, approver=bob, comment="Agreed at ops review")
    assert stored(mttr).target == 25


def test_fields_that_move_no_score_apply_at_once_in_the_same_change(mttr, alice):
    outcome = services.propose_change(mttr, actor=alice, reason="Clearer name, tighter goal", name="Time to resolve", target=25)
    kpi = stored(mttr)
    assert (kpi.name, kpi.target) == ("Time to resolve", 30)
    assert set(outcome.proposal.changes) == {"target"}
    latest = change_log(kpi)[-1]
    assert (latest.user, latest.reason, latest.changed_fields) == ("alice", "Clearer name, tighter goal", ["name"])


def test_a_draft_changes_at_once_until_a_change_makes_it_active_which_is_a_proposal(alice):
    draft = KpiDefinitionFactory(slug="toil-ratio", status="draft", owner=alice)
    outcome = services.propose_change(draft, actor=alice, reason="Its goal", target=20)
    assert outcome.proposal is None
    assert stored(draft).target == 20
    outcome = services.propose_change(draft, actor=alice, reason="Activate with a tighter goal", target=15, status="active")
    assert outcome.proposal.changes == {"status": {"old": "draft", "new": "active"}, "target": {"old": 20.0, "new": 15.0}}
    assert (stored(draft).target, stored(draft).status) == (20, "draft")


def test_approval_writes_one_history_entry_naming_the_author_and_the_approver(mttr, alice, bob):
    proposal = services.propose_change(mttr, actor=alice, reason="Tighter P1 goal", target=25, critical_threshold=50).proposal
    services.approve_proposal(proposal, approver=bob, comment="agreed at ops review")
    log = change_log(mttr)
    assert len(log) == 2
    applied = log[-1]
    assert applied.user == "bob"
    assert applied.reason == f"Proposal #{proposal.pk} by alice (Tighter P1 goal), approved by bob: agreed at ops review"
    assert applied.changed_fields == ["critical_threshold", "target"]
    proposal.refresh_from_db()
    assert (proposal.status, proposal.decided_by, proposal.applied_history_id) == ("approved", bob, applied.history_id)
    assert proposal.decided_at == applied.when


def test_the_author_cannot_approve_their_own_proposal(mttr, alice):
    alice.groups.add(Group.objects.get_or_create(name=roles.KPI_APPROVERS)[0])
    proposal = services.propose_change(mttr, actor=alice, reason="Tighter goal", target=25).proposal
    with pytest.raises(PermissionDenied, match="your own"):
        services.approve_proposal(proposal, approver=alice, comment="Looks right to me")
    with pytest.raises(PermissionDenied, match="your own"):
        services.approve_proposal(proposal, approver=alice, comment="Please", emergency_reason="I say so")
    assert stored(mttr).target == 30
    assert KpiChangeProposal.objects.get().status == "open"


def test_a_superuser_may_approve_their_own_proposal_only_with_an_emergency_reason_which_is_recorded(mttr, superuser):
    proposal = services.propose_change(mttr, actor=superuser, reason="Stop paging on noise", critical_threshold=90).proposal
    with pytest.raises(ValidationError) as refused:
        services.approve_proposal(proposal, approver=superuser, comment="Urgent")
    assert "emergency_reason" in refused.value.message_dict
    assert stored(mttr).critical_threshold == 60

    services.approve_proposal(proposal, approver=superuser, comment="Urgent", emergency_reason="Pager storm at 3am, no approver awake")
    assert stored(mttr).critical_threshold == 90
    assert list(KpiChangeProposal.objects.emergency_self_approvals()) == [proposal]
    assert KpiChangeProposal.objects.get().emergency_reason == "Pager storm at 3am, no approver awake"
    assert "in an emergency (Pager storm at 3am, no approver awake)" in change_log(mttr)[-1].reason


def test_an_emergency_reason_is_refused_when_approving_someone_elses_proposal(mttr, alice, superuser):
    proposal = services.propose_change(mttr, actor=alice, reason="Tighter goal", target=25).proposal
    with pytest.raises(ValidationError) as refused:
        services.approve_proposal(proposal, approver=superuser, comment="Fine", emergency_reason="Because")
    assert "emergency_reason" in refused.value.message_dict


def test_only_kpi_approvers_decide_proposals(mttr, alice):
    proposal = services.propose_change(mttr, actor=alice, reason="Tighter goal", target=25).proposal
    other_owner = member_of(roles.KPI_OWNERS, "olivia")
    with pytest.raises(PermissionDenied, match="KPI approvers"):
        services.approve_proposal(proposal, approver=other_owner, comment="Sure")
    with pytest.raises(PermissionDenied, match="KPI approvers"):
        services.reject_proposal(proposal, approver=other_owner, comment="No")


def test_a_decision_needs_a_comment(mttr, alice, bob):
    proposal = services.propose_change(mttr, actor=alice, reason="Tighter goal", target=25).proposal
    with pytest.raises(ValidationError) as refused:
        services.approve_proposal(proposal, approver=bob, comment="  ")
    assert "comment" in refused.value.message_dict


def test_rejection_changes_nothing_in_the_definition(mttr, alice, bob):
    proposal = services.propose_change(mttr, actor=alice, reason="Looser goal", target=45, critical_threshold=90).proposal
    services.reject_proposal(proposal, approver=bob, comment="Not without data")
    kpi = stored(mttr)
    assert (kpi.target, kpi.critical_threshold) == (30, 60)
    assert mttr.history.count() == 1
    proposal.refresh_from_db()
    assert (proposal.status, proposal.decided_by, proposal.decision_comment, proposal.applied_history_id) == (
        "rejected", bob, "Not without data", None
    )


def test_a_decided_proposal_cannot_be_decided_again(mttr, alice, bob):
    proposal = services.propose_change(mttr, actor=alice, reason="Tighter goal", target=25).proposal
    services.reject_proposal(proposal, approver=bob, comment="No")
    with pytest.raises(services.ProposalConflict, match=f"#{proposal.pk} was already rejected by bob"):
        services.approve_proposal(proposal, approver=bob, comment="Changed my mind")
    assert stored(mttr).target == 30


def test_a_second_proposal_is_refused_naming_the_open_one(mttr, alice, superuser):
    first = services.propose_change(mttr, actor=alice, reason="Tighter goal", target=25).proposal
    with pytest.raises(services.ProposalConflict) as refused:
        services.propose_change(mttr, actor=superuser, reason="Different weight", weight=3)
    message = refused.value.message_dict["proposal"][0]
    assert f"open proposal #{first.pk} by alice (Tighter goal)" in message
    assert KpiChangeProposal.objects.count() == 1
    # Fields that need no approval still change while a proposal is open.
    services.propose_change(mttr, actor=alice, reason="Typo", description="Fixed a typo.")
    assert stored(mttr).description == "Fixed a typo."


def test_an_invalid_proposal_is_refused_when_made_naming_the_field(mttr, alice):
    with pytest.raises(ValidationError) as refused:
        services.propose_change(mttr, actor=alice, reason="Oops", critical_threshold=10)
    assert "critical_threshold" in refused.value.message_dict
    assert not KpiChangeProposal.objects.exists()


def test_a_proposal_whose_field_changed_since_is_refused_on_approval(mttr, alice, bob):
    proposal = services.propose_change(mttr, actor=alice, reason="Tighter goal", target=25).proposal
    services.change_definition(mttr, actor=None, reason="Catalogue correction", target=28)
    with pytest.raises(services.ProposalConflict, match="target of 'mttr' changed after proposal"):
        services.approve_proposal(proposal, approver=bob, comment="OK")
    assert stored(mttr).target == 28


def test_a_duration_change_is_proposed_and_applied_as_a_duration(mttr, alice, bob):
    proposal = services.propose_change(mttr, actor=alice, reason="Wait longer", breach_after=datetime.timedelta(minutes=15)).proposal
    services.approve_proposal(proposal, approver=bob, comment="OK")
    assert stored(mttr).breach_after == datetime.timedelta(minutes=15)


def test_the_author_and_the_owner_are_emailed_the_decision(mttr, bob, superuser, django_capture_on_commit_callbacks):
    superuser.email = "root@example.com"
    superuser.save()
    proposal = services.propose_change(mttr, actor=superuser, reason="Tighter goal", target=25).proposal
    with django_capture_on_commit_callbacks(execute=True):
        services.approve_proposal(proposal, approver=bob, comment="Agreed")
    assert len(mail.outbox) == 1
    sent = mail.outbox[0]
    assert sorted(sent.to) == ["alice@example.com", "root@example.com"]
    assert sent.subject == f"KPI mttr: proposal #{proposal.pk} approved"
    assert "approved by bob: Agreed" in sent.body
    assert "target: 30.0 -> 25" in sent.body

    rejected = services.propose_change(mttr, actor=superuser, reason="Even tighter", target=20).proposal
    with django_capture_on_commit_callbacks(execute=True):
        services.reject_proposal(rejected, approver=bob, comment="Too soon")
    assert mail.outbox[1].subject == f"KPI mttr: proposal #{rejected.pk} rejected"
    assert "The definition is unchanged." in mail.outbox[1].body


def test_a_revert_of_an_active_definitions_target_is_a_proposal(mttr, alice, bob):
    proposal = services.propose_change(mttr, actor=alice, reason="Tighter goal", target=25).proposal
    services.approve_proposal(proposal, approver=bob, comment="OK")
    outcome = services.revert_definition(stored(mttr), mttr.history.earliest().history_id, actor=alice, reason="Too tight")
    assert outcome.proposal.changes == {"target": {"old": 25.0, "new": 30.0}}
    assert outcome.proposal.reason == "Reverted to version 1: Too tight"
    assert stored(mttr).target == 25


def test_scoring_the_day_before_the_approval_uses_the_old_target(mttr, alice, bob):
    company = CompanyFactory(slug="comp-acme")
    day_before, approval_day = datetime.date(2024, 1, 15), datetime.date(2024, 1, 16)
    for day in (day_before, approval_day):
        ObservationFactory(kpi=mttr, company=company, value=40, observed_at=datetime.datetime.combine(day, datetime.time(12), datetime.timezone.utc))
    history = type(mttr.history.get())
    history.objects.filter(id=mttr.pk).update(history_date=datetime.datetime(2024, 1, 1, tzinfo=datetime.timezone.utc))
    proposal = services.propose_change(mttr, actor=alice, reason="Looser goal", target=40, critical_threshold=80).proposal
    services.approve_proposal(proposal, approver=bob, comment="OK")
    # The approval came into force on the morning of the 16th.
    approved_at = datetime.datetime(2024, 1, 16, 9, tzinfo=datetime.timezone.utc)
    history.objects.filter(history_id=KpiChangeProposal.objects.get().applied_history_id).update(history_date=approved_at)

    compute_snapshots(day_before, company=company)
    compute_snapshots(approval_day, company=company)
    scores = dict(ScoreSnapshot.objects.filter(level="company").values_list("day", "kpis"))
    # 40 minutes against target 30 / critical 60 scores 66.7; against target 40 it scores 100.
    assert scores[day_before]["mttr"]["score"] == pytest.approx(200 / 3)
    assert scores[approval_day]["mttr"]["score"] == pytest.approx(100)
