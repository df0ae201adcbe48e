"""
The change log of KPI definitions: simple-history rows turned into entries of who, when, why and what.

The admin history view, `kpi history`, `kpi audit-export` and the API all read definitions' history
through this module, so they agree on version numbers and on what counts as a change.
"""
import dataclasses
import datetime

from django.contrib.auth import get_user_model

from .models import KpiDefinition

HistoricalKpiDefinition = KpiDefinition.history.model

CHANGE_TYPES = {"+": "created", "~": "changed", "-": "deleted"}
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
    """One version of a definition: the n-th history row of its slug."""

    history_id: int
    slug: str
    version: int
    change_type: str
    user: str
    when: datetime.datetime
    reason: str
    changes: tuple

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
        }


def tracked_field_names():
    """The fields whose changes a version records (the editable, history-tracked ones, without the id)."""
    return [
        field.name
        for field in HistoricalKpiDefinition.tracked_fields
        if field.editable and not field.primary_key
    ]


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


def revert_preview(kpi, history_id):
    """What reverting `kpi` to the version `history_id` would change: each field from its current value to the version's."""
    version = kpi.history.get(history_id=history_id)
    current = kpi.history.latest()
    fields = [name for name in tracked_field_names() if name != "slug"]
    delta = version.diff_against(current, included_fields=fields)
    usernames = _usernames_of_owners([version, current])
    return [
        FieldChange(change.field, _display(change.field, change.old, usernames), _display(change.field, change.new, usernames))
        for change in delta.changes
    ]


def version_of(record):
    """The version number of a history row: its place among its definition's rows, oldest first."""
    return (
        HistoricalKpiDefinition.objects.filter(id=record.id, history_date__lte=record.history_date)
        .exclude(history_date=record.history_date, history_id__gt=record.history_id)
        .count()
    )


def _entries(records):
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
