"""
Every write to a KPI definition goes through these functions, so every path leaves one audited history row.

People's edits (the admin, the API, reverts) go through `propose_change`: on an active definition a change to
a score-moving field (FIELDS_NEEDING_APPROVAL) becomes a proposal that a second person approves or rejects; the
rest applies at once. Making a definition active is such a proposal too, with the score-moving fields changed
along with it. Other changes of draft and retired definitions apply at once. `change_definition` applies at once
and is what an approval, the catalogue loader and other system paths use.
"""
import copy
import dataclasses
import json
from functools import partial

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, transaction
from django.utils import timezone

from companyos import events
from companyos.change_control import apply_changes, require_reason, save_with_history

from . import history
from .choices import ProposalStatus, ReviewOutcome, Status
from .models import (
    FIELDS_NEEDING_APPROVAL,
    KpiChangeProposal,
    KpiDefinition,
    KpiReview,
    ReviewReminder,
    next_review_after,
)
from .permissions import may_decide_proposals


class ProposalConflict(ValidationError):
    """A proposal clashes with the registry: another one is open, it was decided already, or its fields moved on."""


@dataclasses.dataclass(frozen=True)
class ChangeOutcome:
    """What a person's change did: the definition as now in force, and the proposal awaiting approval (or None)."""

    kpi: KpiDefinition
    proposal: KpiChangeProposal | None = None


def _refuse_uneditable(kpi, fields):
    editable = {field.name for field in KpiDefinition._meta.get_fields() if getattr(field, "editable", False)}
    unknown = set(fields) - editable
    if unknown:
        raise ValidationError({name: f"'{name}' is not an editable field of a KPI definition." for name in sorted(unknown)})
    if "slug" in fields and fields["slug"] != kpi.slug:
        raise ValidationError({"slug": f"The slug '{kpi.slug}' cannot change once created."})


@transaction.atomic
def create_definition(*, actor, reason, **fields):
    """Create a definition; its first history row carries `actor` and `reason`."""
    return save_with_history(KpiDefinition(**fields), actor=actor, reason=reason)


@transaction.atomic
def add_definition(*, actor, reason, **fields):
    """
    A person's new definition (the admin's add form): created as a draft, and a `status` other than draft is
    then a change of it (`propose_change`), so a definition that comes in active is a proposal that a second
    person approves. Returns a ChangeOutcome.
    """
    status = fields.pop("status", Status.DRAFT)
    kpi = create_definition(actor=actor, reason=reason, status=Status.DRAFT, **fields)
    if status == Status.DRAFT:
        return ChangeOutcome(kpi)
    return propose_change(kpi, actor=actor, reason=reason, status=status)


@transaction.atomic
def change_definition(kpi, *, actor, reason, **fields):
    """
    Apply `fields` to `kpi` at once and record one history row with who and why.

    No approval is asked: people's edits go through `propose_change` instead. Refuses a missing reason, an unknown field or an invalid result; nothing is written then.
    Returns the definition; a call that changes nothing writes no history.
    """
    require_reason(reason)
    _refuse_uneditable(kpi, fields)
    return apply_changes(kpi, fields, actor=actor, reason=reason)


@transaction.atomic
def revert_definition(kpi, history_id, *, actor, reason):
    """
    Make `kpi` again what it was at version `history_id`, as a change whose reason names the version.

    A revert is a person's change like any other (`propose_change`): its score-moving part becomes a proposal
    on an active definition or one it would make active. It never changes the owner (who is accountable now is
    not a matter of an old version). Refuses a version of another definition, a missing reason, or a version the
    definition already matches. Returns a ChangeOutcome.
    """
    require_reason(reason)
    version = kpi.history.filter(history_id=history_id).first()
    if version is None:
        raise ValidationError({"history_id": f"{history_id} is not a version of the KPI '{kpi.slug}'."})
    current = KpiDefinition.objects.select_for_update().get(pk=kpi.pk)
    restored = {name: _restored_value(version, name) for name in history.revertible_field_names()}
    changed = {name: value for name, value in restored.items() if getattr(current, name) != value}
    number = history.version_of(version)
    if not changed:
        raise ValidationError({"history_id": f"The KPI '{kpi.slug}' already matches version {number}; there is nothing to revert."})
    return propose_change(current, actor=actor, reason=f"Reverted to version {number}: {str(reason).strip()}", **changed)


def _restored_value(version, name):
    """A field's value at a history row; a foreign key's related row, or None when it is gone since."""
    field = KpiDefinition._meta.get_field(name)
    if not field.is_relation:
        return getattr(version, name)
    return field.related_model.objects.filter(pk=getattr(version, field.attname)).first()


def _score_moving_changes(kpi, fields):
    return {name: value for name, value in fields.items() if name in FIELDS_NEEDING_APPROVAL and getattr(kpi, name) != value}


def held_for_approval(kpi, fields):
    """
    The `fields` that would wait for approval: the changed score-moving ones of an active definition, or of
    a draft or retired one that they make active (whatever else they change, it comes into force with it).
    """
    moving = _score_moving_changes(kpi, fields)
    if kpi.status == Status.ACTIVE or moving.get("status") == Status.ACTIVE:
        return moving
    return {}


def check_no_open_proposal(kpi, fields):
    """
    Refuse (ProposalConflict) a change of score-moving fields while `kpi` has an open proposal, naming that
    proposal: an approver approves the definition as it was proposed, even a draft's.
    """
    if not _score_moving_changes(kpi, fields):
        return
    pending = kpi.proposals.open().select_related("author").first()
    if pending is not None:
        raise ProposalConflict(
            {
                "proposal": (
                    f"The KPI '{kpi.slug}' already has open proposal #{pending.pk} by {pending.author.get_username()} "
                    f"({pending.reason}); it must be approved or rejected before another score-moving change is proposed."
                )
            }
        )


@transaction.atomic
def propose_change(kpi, *, actor, reason, **fields):
    """
    A person's change to a definition: what needs no approval applies at once, the rest awaits a second person.

    On an active definition (or one the change makes active), changed FIELDS_NEEDING_APPROVAL become a
    KpiChangeProposal by `actor`, not in force; the other fields apply at once through `change_definition`, with
    the same reason. Other changes of a draft or retired definition apply at once. Refuses a missing reason, a
    result that would be invalid (naming the field) and a score-moving change while a proposal is open (naming
    it). Returns a ChangeOutcome.
    """
    require_reason(reason)
    _refuse_uneditable(kpi, fields)
    kpi = KpiDefinition.objects.select_for_update().get(pk=kpi.pk)
    check_no_open_proposal(kpi, fields)
    held = held_for_approval(kpi, fields)
    if not held:
        return ChangeOutcome(change_definition(kpi, actor=actor, reason=reason, **fields))
    if actor is None:
        raise ValidationError({"author": f"A change to {', '.join(held)} of '{kpi.slug}' is a proposal and needs an author."})
    candidate = copy.copy(kpi)
    for name, value in fields.items():
        setattr(candidate, name, value)
    # The proposal must be valid as a whole when made, so an approver never approves what cannot apply.
    candidate.full_clean()
    kpi = change_definition(kpi, actor=actor, reason=reason, **{name: value for name, value in fields.items() if name not in held})
    proposal = KpiChangeProposal(
        kpi=kpi,
        author=actor,
        reason=str(reason).strip(),
        changes={
            name: {"old": _stored_json(name, getattr(kpi, name)), "new": _stored_json(name, value)} for name, value in held.items()
        },
        base_history_id=_latest_version(kpi).history_id,
    )
    try:
        with transaction.atomic():
            proposal.save()
    except IntegrityError:
        # Another request opened a proposal since the check above: refuse naming it.
        check_no_open_proposal(kpi, held)
        raise
    events.announce(events.proposal_submitted, sender=KpiChangeProposal, proposal=proposal)
    return ChangeOutcome(kpi, proposal)


def submit_proposal(kpi, *, actor, reason, **fields):
    """
    Propose changes to score-moving fields only (the API's POST of a proposal); returns the open proposal.

    Refuses fields that apply at once, changes of a definition that is not active that do not make it active
    (they apply at once), and values already in force.
    """
    immediate = sorted(set(fields) - set(FIELDS_NEEDING_APPROVAL))
    if immediate:
        raise ValidationError({name: f"'{name}' needs no approval; change it on the definition directly." for name in immediate})
    if kpi.status != Status.ACTIVE and fields.get("status") != Status.ACTIVE:
        raise ValidationError(
            {"status": f"The KPI '{kpi.slug}' is {kpi.status}: its changes apply at once, without a proposal, unless they make it active."}
        )
    proposal = propose_change(kpi, actor=actor, reason=reason, **fields).proposal
    if proposal is None:
        raise ValidationError(f"Nothing to propose: the KPI '{kpi.slug}' already has these values.")
    return proposal


@transaction.atomic
def approve_proposal(proposal, *, approver, comment, emergency_reason=""):
    """
    Put `proposal` in force: its changes become one history row of the definition, by `approver`, whose reason
    names the author, the author's reason, the approver and `comment`. It is in force from that row's time.

    The approver is a KPI approver (or superuser) other than the author; a superuser may approve their own
    proposal only with an `emergency_reason`, which is recorded for auditors. Refuses a decided proposal and
    one whose fields changed since it was made.
    """
    proposal, comment = open_for_decision(proposal, approver, comment)
    emergency_reason = (emergency_reason or "").strip()
    own = proposal.author_id == approver.pk
    if own and not approver.is_superuser:
        raise PermissionDenied(f"Proposal #{proposal.pk} is your own; another KPI approver must approve it.")
    if own and not emergency_reason:
        raise ValidationError(
            {"emergency_reason": f"Proposal #{proposal.pk} is your own: approving it yourself needs an emergency reason, which auditors review."}
        )
    if emergency_reason and not own:
        raise ValidationError({"emergency_reason": "An emergency reason is only for a superuser approving their own proposal."})
    kpi = KpiDefinition.objects.select_for_update().get(pk=proposal.kpi_id)
    decision = f"self-approved by {approver.get_username()} in an emergency ({emergency_reason})" if own else f"approved by {approver.get_username()}"
    reason = f"Proposal #{proposal.pk} by {proposal.author.get_username()} ({proposal.reason}), {decision}: {comment}"
    kpi = change_definition(kpi, actor=approver, reason=reason, **_proposed_values(proposal, kpi))
    applied = _latest_version(kpi)
    proposal.status = ProposalStatus.APPROVED
    proposal.decided_by, proposal.decided_at, proposal.decision_comment = approver, applied.history_date, comment
    proposal.emergency_reason, proposal.applied_history_id = emergency_reason, applied.history_id
    proposal.save()
    _email_decision(proposal, kpi)
    events.announce(events.proposal_decided, sender=KpiChangeProposal, proposal=proposal)
    return proposal


@transaction.atomic
def reject_proposal(proposal, *, approver, comment):
    """Close `proposal` without changing the definition; `approver` is a KPI approver (or superuser) other than the author."""
    proposal, comment = open_for_decision(proposal, approver, comment)
    if proposal.author_id == approver.pk:
        raise PermissionDenied(f"Proposal #{proposal.pk} is your own; another KPI approver must reject it.")
    proposal.status = ProposalStatus.REJECTED
    proposal.decided_by, proposal.decided_at, proposal.decision_comment = approver, timezone.now(), comment
    proposal.save()
    _email_decision(proposal, proposal.kpi)
    events.announce(events.proposal_decided, sender=KpiChangeProposal, proposal=proposal)
    return proposal


def open_for_decision(proposal, user, comment, *, label=None):
    """
    `proposal` (a definition's or the weights') locked, once `user` may decide proposals, a comment is given and it
    is still open; `label` names it in the refusal ("Proposal #N" by default).
    """
    if not may_decide_proposals(user):
        raise PermissionDenied("Only members of KPI approvers (or a superuser) approve or reject proposals.")
    comment = (comment or "").strip()
    if not comment:
        raise ValidationError({"comment": "A comment on the decision is required."})
    proposal = type(proposal).objects.select_for_update().select_related("author").get(pk=proposal.pk)
    if proposal.status != ProposalStatus.OPEN:
        label = label or f"Proposal #{proposal.pk}"
        raise ProposalConflict(
            {
                "proposal": (
                    f"{label} was already {proposal.status} by {proposal.decided_by.get_username()} "
                    f"on {proposal.decided_at:%Y-%m-%d %H:%M %Z}; it cannot be decided again."
                )
            }
        )
    return proposal, comment


def _proposed_values(proposal, kpi):
    """The proposal's new values as the model stores them; refuses a field that no longer has the value it was proposed from."""
    values = {}
    for name, change in proposal.changes.items():
        field = KpiDefinition._meta.get_field(name)
        current = _stored_json(name, getattr(kpi, name))
        if current != _stored_json(name, change["old"]):
            raise ProposalConflict(
                {
                    name: (
                        f"{name} of '{kpi.slug}' changed after proposal #{proposal.pk} was made (it is now {current!r}, "
                        f"the proposal expected {change['old']!r}); reject it and propose again."
                    )
                }
            )
        values[name] = field.to_python(change["new"])
        if field.is_relation and values[name] is not None:
            values[name] = field.related_model.objects.filter(pk=values[name]).first()
            if values[name] is None:
                raise ProposalConflict({name: f"The {name} #{change['new']} that proposal #{proposal.pk} names is gone; reject it."})
    return values


def _stored_json(name, value):
    """
    A field value as a proposal stores it in JSON: as the model would store it (a number as a float, a duration
    as ISO 8601), a foreign key as the related row's id. So a proposal's diff reads the same everywhere.
    """
    field = KpiDefinition._meta.get_field(name)
    value = getattr(value, "pk", value) if field.is_relation else field.to_python(value)
    return json.loads(json.dumps(value, cls=DjangoJSONEncoder))


def _latest_version(kpi):
    return kpi.history.order_by("-history_date", "-history_id").first()


def _email_decision(proposal, kpi):
    """After the commit, tell the author and the definition's owner what was decided (a mail failure is logged)."""
    recipients = sorted({user.email for user in (proposal.author, kpi.owner) if user is not None and user.email})
    if not recipients:
        return
    changes = [f"- {name}: {change['old']!r} -> {change['new']!r}" for name, change in proposal.changes.items()]
    if proposal.status == ProposalStatus.APPROVED:
        outcome = f"The change is in force since {proposal.decided_at:%Y-%m-%d %H:%M %Z}."
    else:
        outcome = "The definition is unchanged."
    message = [
        f"Proposal #{proposal.pk} by {proposal.author.get_username()} to change the KPI '{kpi.slug}' ({proposal.reason}):",
        *changes,
        "",
        f"was {proposal.status} by {proposal.decided_by.get_username()}: {proposal.decision_comment}",
    ]
    if proposal.emergency_reason:
        message.append(f"Emergency self-approval: {proposal.emergency_reason}")
    message.append(outcome)
    transaction.on_commit(
        partial(
            send_mail,
            subject=f"KPI {kpi.slug}: proposal #{proposal.pk} {proposal.status}",
            message="\n".join(message),
            from_email=None,
            recipient_list=recipients,
        ),
        robust=True,
    )


@transaction.atomic
def record_review(kpi, *, reviewer, outcome, notes=""):
    """
    Record that `reviewer` re-validated `kpi` now, and move its next review on by its cadence.

    The review is its own audit row; the definition's review dates are written without a history row.
    """
    if outcome not in ReviewOutcome.values:
        raise ValidationError({"outcome": f"Unknown review outcome '{outcome}'; use one of {', '.join(ReviewOutcome.values)}."})
    review = KpiReview.objects.create(kpi=kpi, reviewer=reviewer, outcome=outcome, notes=(notes or "").strip())
    next_due = next_review_after(timezone.localdate(review.reviewed_at), kpi.review_cadence)
    KpiDefinition.objects.filter(pk=kpi.pk).update(last_reviewed_at=review.reviewed_at, next_review_due=next_due)
    kpi.last_reviewed_at, kpi.next_review_due = review.reviewed_at, next_due
    return review


def owners_with_overdue_reviews(today):
    """The ids of the users who own at least one definition due for review on `today`."""
    return list(
        KpiDefinition.objects.due_for_review(today)
        .filter(owner__isnull=False)
        .order_by("owner_id")
        .values_list("owner_id", flat=True)
        .distinct()
    )


@transaction.atomic
def send_overdue_review_reminder(owner, today):
    """
    E-mail `owner` the definitions they own that are due for review, at most once per day.

    Returns the recorded ReviewReminder, or None when there is nothing to send or it was sent already today.
    If sending fails, the record is rolled back so that a retry can send it.
    """
    overdue = list(KpiDefinition.objects.due_for_review(today).filter(owner=owner).order_by("next_review_due", "slug"))
    if not overdue or not owner.email:
        return None
    try:
        with transaction.atomic():
            reminder = ReviewReminder.objects.create(
                recipient=owner, sent_on=today, definitions="\n".join(kpi.slug for kpi in overdue)
            )
    except IntegrityError:
        return None
    events.announce(events.review_overdue, sender=KpiDefinition, owner=owner, definitions=overdue, day=today)
    lines = [f"- {kpi.slug} ({kpi.name}): review was due on {kpi.next_review_due:%Y-%m-%d}" for kpi in overdue]
    send_mail(
        subject=f"{len(overdue)} KPI definition{'s' if len(overdue) != 1 else ''} due for review",
        message="\n".join(
            [
                f"Hello {owner.get_username()},",
                "",
                "These KPI definitions you own are due for review:",
                *lines,
                "",
                'Re-validate each one and record it with the "Mark reviewed" action in the KPI registry.',
            ]
        ),
        from_email=None,
        recipient_list=[owner.email],
    )
    return reminder
