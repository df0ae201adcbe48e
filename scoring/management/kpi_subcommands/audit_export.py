"""
`kpi audit-export`: the audit export (scoring.audit_export) of a period, to standard output or a file. It lives in
scoring, above both the registry and the weights (the `kpi` command finds it here).
"""
from django.core.management.base import CommandError

from companyos.api.dates import read_day
from scoring.audit_export import audit_entries, audit_period, export_chunks


def add_arguments(parser):
    parser.add_argument("--since", required=True, metavar="DATE", help="First day of the period (YYYY-MM-DD).")
    parser.add_argument("--until", metavar="DATE", help="Last day of the period, included (YYYY-MM-DD; default: no end).")
    parser.add_argument("--format", choices=["csv", "json"], default="csv")
    parser.add_argument("--output", metavar="PATH", help="Write to this file instead of standard output.")


def handle(command, *, since, until, format, output, **options):
    try:
        start, end = audit_period(_day(since, "--since"), _day(until, "--until") if until else None)
    except ValueError:
        raise CommandError("--until must not be before --since.") from None
    entries = audit_entries(start, end)
    if output:
        with open(output, "w", newline="", encoding="utf-8") as stream:
            for chunk in export_chunks(entries, format):
                stream.write(chunk)
        command.stderr.write(f"Wrote {len(entries)} change(s) and proposal event(s) to {output}.")
    else:
        for chunk in export_chunks(entries, format):
            command.stdout.write(chunk, ending="")


def _day(text, option):
    try:
        return read_day(text)
    except ValueError as error:
        raise CommandError(f"{option}: {error} Give a date such as 2024-01-31.") from None
