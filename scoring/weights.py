"""
Four eyes on the dimension weights: every change is a DimensionWeightsProposal (author, reason, the weights it
changes), not in force until a KPI approver other than its author approves it. Approval writes one history row
of the weights by the approver, whose reason names the author, the author's reason and the approver's comment;
from then on the weights are in force (scoring.versions.weights_in_force). Rejection changes nothing.
"""
from decimal import Decimal, InvalidOperation
from functools import partial

from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.utils import timezone

from companyos import events
from companyos.change_control import apply_changes, require_reason
from kpis.choices import ProposalStatus
from kpis.services import ProposalConflict, open_for_decision

from .models import SCORED_DIMENSIONS, WEIGHTS_TOTAL, DimensionWeights, DimensionWeightsProposal

# The weights are stored with two decimals (DimensionWeights' fields).
WEIGHT_STEP = Decimal("0.01")


def _weight(name, value):
    """`value` as the weights store it, or the message naming `name` that says why it cannot be a weight."""
    try:
        weight = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        return None, f"{name}: '{value}' is not a number; a weight is a percent from 0 to 100."
    if not weight.is_finite() or not 0 <= weight <= WEIGHTS_TOTAL:
        return None, f"{name}: {value} is outside 0-100; a weight is a percent of the composite."
    if weight != weight.quantize(WEIGHT_STEP):
        return None, f"{name}: {value} has more than two decimal places."
    return weight.quantize(WEIGHT_STEP), None


def checked_weights(current, weights):
    """
    The `weights` ({dimension: value}) that differ from `current` (a DimensionWeights), as stored values.

    Refuses, naming each field at fault, an unknown dimension, a value that is not a finite number from 0 to 100
    with at most two decimals, and a set that would not add up to 100.
    """
    known = [dimension.value for dimension in SCORED_DIMENSIONS]
    errors = {
        name: f"'{name}' is not a dimension; use one of {', '.join(known)}." for name in sorted(set(weights) - set(known))
    }
    parsed = {}
    for name in known:
        if name in weights:
            parsed[name], error = _weight(name, weights[name])
            if error:
                errors[name] = error
    if errors:
        raise ValidationError(errors)
    proposed = {name: parsed.get(name, getattr(current, name)) for name in known}
    total = sum(proposed.values(), Decimal(0))
    if total != WEIGHTS_TOTAL:
        terms = " + ".join(f"{name} {weight.normalize():f}" for name, weight in proposed.items())
        raise ValidationError({NON_FIELD_ERRORS: f"The dimension weights must add up to 100: {terms} = {total.normalize():f}."})
    return {name: weight for name, weight in parsed.items() if weight != getattr(current, name)}


def open_proposal_conflict():
    """The ProposalConflict naming the open weights proposal, or None when there is none."""
    pending = DimensionWeightsProposal.objects.filter(status=ProposalStatus.OPEN).select_related("author").first()
    if pending is None:
        return None
    return ProposalConflict(
        {
            "proposal": (
                f"Weights proposal #{pending.pk} by {pending.author.get_username()} ({pending.reason}) is open; it must "
                "be approved or rejected before another change to the weights is proposed."
            )
        }
    )


@transaction.atomic
def propose_weights(*, actor, reason, **weights):
    """
    Propose new dimension weights (some or all five); nothing changes until another person approves.

    Refuses a missing author or reason, invalid weights (naming the field), weights already in force, and a
    second open proposal (naming the first). Returns the open DimensionWeightsProposal.
    """
    require_reason(reason)
    if actor is None:
        raise ValidationError({"author": "A change to the dimension weights is a proposal and needs an author."})
    current = DimensionWeights.objects.select_for_update().get(pk=1)
    changed = checked_weights(current, weights)
    if not changed:
        raise ValidationError({NON_FIELD_ERRORS: "Nothing to propose: these are the weights in force."})
    conflict = open_proposal_conflict()
    if conflict:
        raise conflict
    proposal = DimensionWeightsProposal(
        author=actor,
        reason=str(reason).strip(),
        changes={name: {"old": str(getattr(current, name)), "new": str(weight)} for name, weight in changed.items()},
        base_history_id=DimensionWeights.history.latest("history_date", "history_id").history_id,
    )
    try:
        with transaction.atomic():
            proposal.save()
    except IntegrityError:
        # Another request opened a proposal since the check above: refuse naming it.
        raise open_proposal_conflict() or ProposalConflict("A weights proposal is open already.")
    events.announce(events.proposal_submitted, sender=DimensionWeightsProposal, proposal=proposal)
    return proposal


@transaction.atomic
def approve_weights_proposal(proposal, *, approver, comment):
    """
    Put `proposal` in force now: one history row of the weights by `approver` (a KPI approver or superuser other
    than the author). Refuses a decided proposal and one whose weights changed since it was made.
    """
    proposal, comment = _open_for_decision(proposal, approver, comment, "approve")
    current = DimensionWeights.objects.select_for_update().get(pk=1)
    values = {}
    for name, change in proposal.ordered_changes():
        if getattr(current, name) != Decimal(change["old"]):
            raise ProposalConflict(
                {
                    name: (
                        f"{name} changed after weights proposal #{proposal.pk} was made (it is now {getattr(current, name)}, "
                        f"the proposal expected {change['old']}); reject it and propose again."
                    )
                }
            )
        values[name] = Decimal(change["new"])
    reason = (
        f"Weights proposal #{proposal.pk} by {proposal.author.get_username()} ({proposal.reason}), "
        f"approved by {approver.get_username()}: {comment}"
    )
    apply_changes(current, values, actor=approver, reason=reason)
    applied = DimensionWeights.history.latest("history_date", "history_id")
    proposal.status = ProposalStatus.APPROVED
    proposal.decided_by, proposal.decided_at, proposal.decision_comment = approver, applied.history_date, comment
    proposal.applied_history_id = applied.history_id
    proposal.save()
    _email_decision(proposal)
    events.announce(events.proposal_decided, sender=DimensionWeightsProposal, proposal=proposal)
    return proposal


@transaction.atomic
def reject_weights_proposal(proposal, *, approver, comment):
    """Close `proposal` without changing the weights; `approver` is a KPI approver (or superuser) other than the author."""
    proposal, comment = _open_for_decision(proposal, approver, comment, "reject")
    proposal.status = ProposalStatus.REJECTED
    proposal.decided_by, proposal.decided_at, proposal.decision_comment = approver, timezone.now(), comment
    proposal.save()
    _email_decision(proposal)
    events.announce(events.proposal_decided, sender=DimensionWeightsProposal, proposal=proposal)
    return proposal


def _open_for_decision(proposal, user, comment, decision):
    """The proposal, locked, once it may be decided (kpis.services.open_for_decision) by `user`, who is not its author."""
    proposal, comment = open_for_decision(proposal, user, comment, label=f"Weights proposal #{proposal.pk}")
    if proposal.author_id == user.pk:
        raise PermissionDenied(f"Weights proposal #{proposal.pk} is your own; another KPI approver must {decision} it.")
    return proposal, comment


def _email_decision(proposal):
    """After the commit, tell the author what was decided (a mail failure is logged, the decision stands)."""
    if not proposal.author.email:
        return
    changes = [f"- {name}: {change['old']} -> {change['new']}" for name, change in proposal.ordered_changes()]
    outcome = (
        f"The weights are in force since {proposal.decided_at:%Y-%m-%d %H:%M %Z}."
        if proposal.status == ProposalStatus.APPROVED
        else "The weights are unchanged."
    )
    message = [
        f"Weights proposal #{proposal.pk} by {proposal.author.get_username()} ({proposal.reason}):",
        *changes,
        "",
        f"was {proposal.status} by {proposal.decided_by.get_username()}: {proposal.decision_comment}",
        outcome,
    ]
    transaction.on_commit(
        partial(
            send_mail,
            subject=f"Dimension weights: proposal #{proposal.pk} {proposal.status}",
            message="\n".join(message),
            from_email=None,
            recipient_list=[proposal.author.email],
        ),
        robust=True,
    )
