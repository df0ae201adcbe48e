"""
The audit trail of the dimension weights, in the shape of the definitions' (kpis.history.ChangeLogEntry): every
version of the weights (who, when, why, each weight changed) and every weights proposal made, approved or rejected.
`kpi audit-export` lists them beside the definitions' under the name WEIGHTS_SUBJECT.
"""
from django.db.models import Q

from kpis.choices import ProposalStatus
from kpis.history import APPROVED, CHANGE_TYPES, PROPOSED, REJECTED, UNKNOWN_ACTOR, ChangeLogEntry, FieldChange

from .models import SCORED_DIMENSIONS, DimensionWeights, DimensionWeightsProposal

# What the audit export's slug column says for the weights (a KPI slug cannot hold a space).
WEIGHTS_SUBJECT = "dimension weights"


def weights_audit_trail_between(since, until=None):
    """The versions of the weights and the weights proposal events at or after `since` and before `until` (if given)."""

    def in_period(moment):
        return moment is not None and moment >= since and (until is None or moment < until)

    versions = [entry for entry in _versions() if in_period(entry.when)]
    version_numbers = {entry.history_id: entry.version for entry in versions}
    made = Q(created_at__gte=since) & (Q(created_at__lt=until) if until is not None else Q())
    decided = Q(decided_at__gte=since) & (Q(decided_at__lt=until) if until is not None else Q())
    events = []
    for proposal in DimensionWeightsProposal.objects.filter(made | decided).select_related("author", "decided_by"):
        changes = tuple(FieldChange(name, change["old"], change["new"]) for name, change in proposal.ordered_changes())
        common = {"slug": WEIGHTS_SUBJECT, "changes": changes, "proposal": proposal.pk}
        if in_period(proposal.created_at):
            events.append(ChangeLogEntry(
                history_id=None, version=None, change_type=PROPOSED, user=proposal.author.get_username(),
                when=proposal.created_at, reason=proposal.reason, **common,
            ))
        if in_period(proposal.decided_at):
            events.append(ChangeLogEntry(
                history_id=proposal.applied_history_id, version=version_numbers.get(proposal.applied_history_id),
                change_type=APPROVED if proposal.status == ProposalStatus.APPROVED else REJECTED,
                user=proposal.decided_by.get_username(), when=proposal.decided_at, reason=proposal.decision_comment,
                **common,
            ))
    return [*versions, *events]


def _versions():
    """Every version of the weights, oldest first, each with the weights it changed."""
    proposals = dict(
        DimensionWeightsProposal.objects.filter(applied_history_id__isnull=False).values_list("applied_history_id", "pk")
    )
    names = [dimension.value for dimension in SCORED_DIMENSIONS]
    entries = []
    previous = None
    for number, record in enumerate(
        DimensionWeights.history.select_related("history_user").order_by("history_date", "history_id"), start=1
    ):
        changes = tuple(
            FieldChange(name, None if previous is None else str(getattr(previous, name)), str(getattr(record, name)))
            for name in names
            if previous is None or getattr(previous, name) != getattr(record, name)
        )
        entries.append(ChangeLogEntry(
            history_id=record.history_id,
            slug=WEIGHTS_SUBJECT,
            version=number,
            change_type=CHANGE_TYPES[record.history_type],
            user=record.history_user.get_username() if record.history_user else UNKNOWN_ACTOR,
            when=record.history_date,
            reason=record.history_change_reason or "",
            changes=changes,
            proposal=proposals.get(record.history_id),
        ))
        previous = record
    return entries
