"""Print the catalogue as a table (--format json for machines)."""
import json

from kpis.models import KpiDefinition

COLUMNS = ["slug", "name", "units", "direction", "target", "critical_threshold", "dimension", "weight", "visibility", "status", "owner_role"]


def add_arguments(parser):
    parser.add_argument("--format", choices=["table", "json"], default="table")


def handle(command, *, format, **options):
    rows = list(KpiDefinition.objects.order_by("dimension", "slug").values(*COLUMNS))
    if format == "json":
        command.stdout.write(json.dumps(rows, indent=2))
        return
    widths = {column: max([len(column), *(len(str(row[column])) for row in rows)]) for column in COLUMNS}
    command.stdout.write("  ".join(column.ljust(widths[column]) for column in COLUMNS))
    for row in rows:
        command.stdout.write("  ".join(str(row[column]).ljust(widths[column]) for column in COLUMNS))
    command.stdout.write(f"{len(rows)} definitions")
