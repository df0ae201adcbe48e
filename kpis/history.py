"""
The change log of KPI definitions: simple-history rows turned into entries of who, when, why and what.

The admin history view, `kpi history`, `kpi audit-export` and the API all read definitions' history
through this module, so they agree on version numbers and on what counts as a change. The audit trail adds
the change proposals: when each was made, approved (an emergency self-approval says so) or rejected.
"""
import dataclasses
import datetime

from django.contrib.auth import get_user_model
from django.db.models import Q

from .choices import ProposalStatus
from .models import KpiChangeProposal, KpiDefinition

HistoricalKpiDefinition = KpiDefinition.history.model

CHANGE_TYPES = {"+": "created", "~": "changed", "-": "deleted"}
# The change types of proposal events in the audit trail.
PROPOSED, APPROVED, EMERGENCY_SELF_APPROVED, REJECTED = "proposed", "approved", "emergency self-approval", "rejected"
# Who a change without a recorded user was made by: the catalogue loader, a migration or a shell session.
UNKNOWN_ACTOR = "system"


@dataclasses.dataclass(frozen=True)
class FieldChange:
    """One field of one version: its value before and after (before is None for a creation)."""

    field: str
    old: object
    new: object


@dataclasses.dataclass(frozen=True)
class ChangeLogEntry:
    """
    One version of a definition (the n-th history row of its slug), or in the audit trail one event of a proposal.

    `proposal` is the proposal that a version put in force, or that an event is about; of the proposal events
    only an approval has a history row (the version it wrote).
    """

    history_id: int | None
    slug: str
    version: int | None
    change_type: str
    user: str
    when: datetime.datetime
    reason: str
    changes: tuple
    proposal: int | None = None

    @property
    def changed_fields(self):
        return [change.field for change in self.changes]

    def as_dict(self):
        """A plain dict for JSON and CSV writers; values are as stored (timedelta, dict, float)."""
        return {
            "slug": self.slug,
            "version": self.version,
            "change_type": self.change_type,
            "user": self.user,
            "when": self.when,
            "reason": self.reason,
            "changes": [dataclasses.asdict(change) for change in self.changes],
            "proposal": self.proposal,
        }


def tracked_field_names():
    """The fields whose changes a version records (the editable, history-tracked ones, without the id)."""
    return [
        field.name
        for field in HistoricalKpiDefinition.tracked_fields
        if field.editable and not field.primary_key
    ]


def revertible_field_names():
    """
    The fields a revert restores: the tracked ones but the slug, which never changes, and the owner, whom a
    revert keeps (who is accountable now is not a matter of an old version).
    """
    return [name for name in tracked_field_names() if name not in ("slug", "owner")]


def change_log(kpi):
    """Every version of `kpi`, oldest first."""
    return _entries(HistoricalKpiDefinition.objects.filter(id=kpi.pk))


def changes_between(since, until=None):
    """
    Every version of every definition recorded at or after `since` and before `until` (if given), in time order.

    Version numbers and diffs count the versions before `since` too, so they match `change_log`.
    """
    in_period = HistoricalKpiDefinition.objects.filter(history_date__gte=since)
    if until is not None:
        in_period = in_period.filter(history_date__lt=until)
    touched = HistoricalKpiDefinition.objects.filter(id__in=in_period.values("id"))
    entries = [
        entry
        for entry in _entries(touched)
        if entry.when >= since and (until is None or entry.when < until)
    ]
    return sorted(entries, key=lambda entry: (entry.when, entry.history_id))


def audit_trail_between(since, until=None):
    """
    The versions of `changes_between` and the events of the proposals (made, approved, emergency self-approved,
    rejected) at or after `since` and before `until` (if given), in time order. An approval event has the
    version number it put in force.
    """
    versions = changes_between(since, until)
    version_numbers = {entry.history_id: entry.version for entry in versions}
    events = _proposal_events_between(since, until)
    events = [dataclasses.replace(event, version=version_numbers.get(event.history_id)) for event in events]
    return sorted([*versions, *events], key=lambda entry: (entry.when, entry.history_id or 0, entry.proposal or 0))


def _proposal_events_between(since, until):
    def in_period(moment):
        return moment is not None and moment >= since and (until is None or moment < until)

    made = Q(created_at__gte=since) & (Q(created_at__lt=until) if until is not None else Q())
    decided = Q(decided_at__gte=since) & (Q(decided_at__lt=until) if until is not None else Q())
    events = []
    for proposal in KpiChangeProposal.objects.filter(made | decided).select_related("kpi", "author", "decided_by"):
        changes = tuple(FieldChange(name, change["old"], change["new"]) for name, change in proposal.changes.items())
        common = {"slug": proposal.kpi.slug, "version": None, "changes": changes, "proposal": proposal.pk}
        if in_period(proposal.created_at):
            events.append(
                ChangeLogEntry(
                    history_id=None, change_type=PROPOSED, user=proposal.author.get_username(),
                    when=proposal.created_at, reason=proposal.reason, **common,
                )
            )
        if in_period(proposal.decided_at):
            events.append(
                ChangeLogEntry(
                    history_id=proposal.applied_history_id, change_type=_decision_type(proposal),
                    user=proposal.decided_by.get_username(), when=proposal.decided_at,
                    reason=_decision_reason(proposal), **common,
                )
            )
    return events


def _decision_type(proposal):
    if proposal.status == ProposalStatus.REJECTED:
        return REJECTED
    return EMERGENCY_SELF_APPROVED if proposal.is_emergency_self_approval else APPROVED


def _decision_reason(proposal):
    if proposal.is_emergency_self_approval:
        return f"Emergency: {proposal.emergency_reason}. {proposal.decision_comment}"
    return proposal.decision_comment


def revert_preview(kpi, history_id):
    """What reverting `kpi` to the version `history_id` would change: each field from its current value to the version's."""
    version = kpi.history.get(history_id=history_id)
    current = kpi.history.latest()
    delta = version.diff_against(current, included_fields=revertible_field_names())
    return [FieldChange(change.field, change.old, change.new) for change in delta.changes]


def version_of(record):
    """The version number of a history row: its place among its definition's rows, oldest first."""
    return (
        HistoricalKpiDefinition.objects.filter(id=record.id, history_date__lte=record.history_date)
        .exclude(history_date=record.history_date, history_id__gt=record.history_id)
        .count()
    )


def _entries(records):
    proposals = dict(
        KpiChangeProposal.objects.filter(kpi__in=records.values("id"), applied_history_id__isnull=False).values_list(
            "applied_history_id", "pk"
        )
    )
    records = list(records.select_related("history_user").order_by("id", "history_date", "history_id"))
    usernames = _usernames_of_owners(records)
    fields = tracked_field_names()
    entries = []
    previous = None
    version = 0
    for record in records:
        version = version + 1 if previous is not None and previous.id == record.id else 1
        if version == 1:
            changes = [
                FieldChange(name, None, _display(name, getattr(record, _attname(name)), usernames))
                for name in fields
                if getattr(record, _attname(name)) not in (None, "", {}, [])
            ]
        else:
            delta = record.diff_against(previous, included_fields=fields)
            changes = [
                FieldChange(change.field, _display(change.field, change.old, usernames), _display(change.field, change.new, usernames))
                for change in delta.changes
            ]
        entries.append(
            ChangeLogEntry(
                history_id=record.history_id,
                slug=record.slug,
                version=version,
                change_type=CHANGE_TYPES[record.history_type],
                user=record.history_user.get_username() if record.history_user else UNKNOWN_ACTOR,
                when=record.history_date,
                reason=record.history_change_reason or "",
                changes=tuple(changes),
                proposal=proposals.get(record.history_id),
            )
        )
        previous = record
    return entries


def _attname(name):
    # Foreign keys are compared and shown by their id; the related user may be gone.
    return "owner_id" if name == "owner" else name


def _usernames_of_owners(records):
    owner_ids = {record.owner_id for record in records if record.owner_id}
    user_model = get_user_model()
    return {
        user.pk: user.get_username()
        for user in user_model.objects.filter(pk__in=owner_ids).only(user_model.USERNAME_FIELD)
    }


def _display(name, value, usernames):
    """The owner by username (or its id, if the user is gone); every other value as stored."""
    if name == "owner" and value is not None:
        return usernames.get(value, f"user #{value}")
    return value
