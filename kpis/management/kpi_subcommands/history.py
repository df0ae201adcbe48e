"""Print the change log of one KPI definition: each version with who, when, why and what changed."""
import json

from django.core.management.base import CommandError
from django.core.serializers.json import DjangoJSONEncoder

from kpis.history import change_log
from kpis.models import KpiDefinition


def add_arguments(parser):
    parser.add_argument("slug")
    parser.add_argument("--format", choices=["text", "json"], default="text")


def handle(command, *, slug, format, **options):
    kpi = KpiDefinition.objects.filter(slug=slug).first()
    if kpi is None:
        raise CommandError(f"No KPI definition with the slug '{slug}'.")
    entries = change_log(kpi)
    if format == "json":
        command.stdout.write(json.dumps([entry.as_dict() for entry in entries], cls=DjangoJSONEncoder, indent=2))
        return
    for entry in entries:
        command.stdout.write(f"{entry.slug} version {entry.version} ({entry.change_type}) {entry.when:%Y-%m-%d %H:%M:%S %Z} by {entry.user}")
        command.stdout.write(f"  reason: {entry.reason or '(none recorded)'}")
        for change in entry.changes:
            command.stdout.write(f"  {change.field}: {change.old!r} -> {change.new!r}")
