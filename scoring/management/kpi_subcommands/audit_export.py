"""
Write every KPI definition change in a period for auditors: slug, version, who, when, why and each changed field
with its old and new value, and every change proposal made, approved, self-approved in an emergency or rejected
(`proposal` names it); and every change of the dimension weights and weights proposal event, whose slug is
"dimension weights". CSV has one row per changed field, its text cells spreadsheet-safe (a reason or value that
starts like a formula gets a leading apostrophe); JSON one object per version or proposal event.

It lives in scoring, above both the registry and the weights (the `kpi` command finds it here).
"""
import datetime
import json

from django.core.management.base import CommandError
from django.core.serializers.json import DjangoJSONEncoder
from django.utils import timezone
from django.utils.duration import duration_iso_string

from companyos.api.dates import read_day
from companyos.csv_export import SpreadsheetSafeWriter
from kpis.history import audit_trail_between
from scoring.weights_history import weights_audit_trail_between

CSV_COLUMNS = ["slug", "version", "change_type", "user", "when", "reason", "field", "old", "new", "proposal"]


def add_arguments(parser):
    parser.add_argument("--since", required=True, metavar="DATE", help="First day of the period (YYYY-MM-DD).")
    parser.add_argument("--until", metavar="DATE", help="Last day of the period, included (YYYY-MM-DD; default: no end).")
    parser.add_argument("--format", choices=["csv", "json"], default="csv")
    parser.add_argument("--output", metavar="PATH", help="Write to this file instead of standard output.")


def handle(command, *, since, until, format, output, **options):
    start = _start_of_day(since, "--since")
    end = _start_of_day(until, "--until") + datetime.timedelta(days=1) if until else None
    if end is not None and end <= start:
        raise CommandError("--until must not be before --since.")
    entries = sorted(
        [*audit_trail_between(start, end), *weights_audit_trail_between(start, end)],
        key=lambda entry: (entry.when, entry.history_id or 0, entry.proposal or 0),
    )
    if output:
        with open(output, "w", newline="", encoding="utf-8") as stream:
            _write(stream, entries, format)
        command.stderr.write(f"Wrote {len(entries)} change(s) and proposal event(s) to {output}.")
    else:
        _write(command.stdout, entries, format)


def _start_of_day(text, option):
    try:
        day = read_day(text)
    except ValueError as error:
        raise CommandError(f"{option}: {error} Give a date such as 2024-01-31.") from None
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def _write(stream, entries, format):
    if format == "json":
        stream.write(json.dumps([entry.as_dict() for entry in entries], cls=DjangoJSONEncoder, indent=2) + "\n")
        return
    writer = SpreadsheetSafeWriter(stream)
    writer.writerow(CSV_COLUMNS)
    for entry in entries:
        version = [entry.slug, entry.version, entry.change_type, entry.user, entry.when.isoformat(), entry.reason]
        for change in entry.changes or [None]:
            if change is None:
                writer.writerow([*version, "", "", "", entry.proposal])
            else:
                writer.writerow([*version, change.field, _csv_value(change.old), _csv_value(change.new), entry.proposal])


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
