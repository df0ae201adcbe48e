"""Write the Prometheus rules file (companyos:* recording rules and alerts) built from the registry."""
import yaml

from scoring.recording_rules import build_rules
from scoring.models import DimensionWeights


def add_arguments(parser):
    parser.add_argument("--output", "-o", help="File to write; default standard output.")


def handle(command, *, output, **options):
    rules = yaml.safe_dump(build_rules(DimensionWeights.objects.get(pk=1).as_dict()), sort_keys=False, width=120)
    if output:
        with open(output, "w", encoding="utf-8") as rules_file:
            rules_file.write(rules)
        command.stdout.write(f"Wrote {output}")
    else:
        command.stdout.write(rules)
