"""
The audit export, for auditors: every KPI definition change in a period (slug, version, who, when, why and each
changed field with its old and new value), every change proposal made, approved, self-approved in an emergency or
rejected (`proposal` names it), and every change of the dimension weights and weights proposal event, whose slug is
"dimension weights". CSV has one row per changed field, its text cells spreadsheet-safe (a reason or value that
starts like a formula gets a leading apostrophe); JSON one object per version or proposal event.

One builder for every way out: `kpi audit-export`, `GET /api/audit-export/` and the admin's download all write
`export_chunks`, so they give the same bytes. It lives in scoring, above both the registry and the weights. Its
records are the portal-wide catalogue and weights: no company's data is in it.
"""
import datetime
import json

from django.core.serializers.json import DjangoJSONEncoder
from django.utils.duration import duration_iso_string

from companyos.api.renderers import Echo
from companyos.csv_export import SpreadsheetSafeWriter
from kpis.history import audit_trail_between
from scoring.weights_history import weights_audit_trail_between
from tenancy.roles import AUDITORS, group_names

CSV_COLUMNS = ["slug", "version", "change_type", "user", "when", "reason", "field", "old", "new", "proposal"]
CONTENT_TYPES = {"csv": "text/csv", "json": "application/json"}


def may_export_audit(user):
    """Auditors and superusers."""
    return user.is_superuser or AUDITORS in group_names(user)


def file_name(since, until, format):
    """The download's file name, e.g. audit-export-2024-01-01-2024-01-31.csv."""
    return f"audit-export-{since.isoformat()}{f'-{until.isoformat()}' if until else ''}.{format}"


def audit_period(since, until=None):
    """
    The moments from the start of the day `since` to the end of the day `until` (UTC; None: no end). ValueError
    when `until` is before `since`.
    """
    start = datetime.datetime.combine(since, datetime.time.min, tzinfo=datetime.timezone.utc)
    if until is None:
        return start, None
    if until < since:
        raise ValueError("until must not be before since.")
    return start, datetime.datetime.combine(until, datetime.time.min, tzinfo=datetime.timezone.utc) + datetime.timedelta(days=1)


def audit_entries(start, end=None):
    """The definitions' and the weights' versions and proposal events at or after `start` and before `end`, in time order."""
    return sorted(
        [*audit_trail_between(start, end), *weights_audit_trail_between(start, end)],
        key=lambda entry: (entry.when, entry.history_id or 0, entry.proposal or 0),
    )


def export_chunks(entries, format):
    """The export of `entries` as text chunks in `format` ("csv" or "json"), produced lazily."""
    return _json_chunks(entries) if format == "json" else _csv_chunks(entries)


def _json_chunks(entries):
    # The bytes of json.dumps(list, indent=2), one entry at a time.
    first = True
    for entry in entries:
        body = json.dumps(entry.as_dict(), cls=DjangoJSONEncoder, indent=2).replace("\n", "\n  ")
        yield ("[\n  " if first else ",\n  ") + body
        first = False
    yield "[]\n" if first else "\n]\n"


def _csv_chunks(entries):
    writer = SpreadsheetSafeWriter(Echo())
    yield writer.writerow(CSV_COLUMNS)
    for entry in entries:
        version = [entry.slug, entry.version, entry.change_type, entry.user, entry.when.isoformat(), entry.reason]
        for change in entry.changes or [None]:
            if change is None:
                yield writer.writerow([*version, "", "", "", entry.proposal])
            else:
                yield writer.writerow([*version, change.field, _csv_value(change.old), _csv_value(change.new), entry.proposal])


def _csv_value(value):
    if value is None:
        return ""
    if isinstance(value, datetime.timedelta):
        return duration_iso_string(value)
    if isinstance(value, (dict, list)):
        return json.dumps(value, sort_keys=True)
    if isinstance(value, (int, float)):
        return value  # a number, so a negative one is written as it is, not taken for a formula
    return str(value)
