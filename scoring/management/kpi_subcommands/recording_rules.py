"""Write the Prometheus rules file (companyos:* recording rules, alerts and SLO burn-rate alerts) built from the registry."""
import yaml

from scoring.models import DimensionWeights
from scoring.recording_rules import build_rules, mixes_companies


class RulesDumper(yaml.SafeDumper):
    """Writes a multi-line expression as a block (`expr: |`), as people write rules files."""


RulesDumper.add_representer(
    str,
    lambda dumper, text: dumper.represent_scalar("tag:yaml.org,2002:str", text, style="|" if "\n" in text else None),
)


def add_arguments(parser):
    parser.add_argument("--output", "-o", help="File to write; default standard output.")


def handle(command, *, output, **options):
    built = build_rules(DimensionWeights.objects.get(pk=1).as_dict())
    for group in built["groups"]:
        for rule in group["rules"]:
            if "kpi" in rule.get("labels", {}) and "record" in rule and mixes_companies(rule["expr"]):
                command.stderr.write(
                    f"Warning: the PromQL of '{rule['labels']['kpi']}' aggregates without the company label, so "
                    f"{rule['record']} mixes companies; propose a PromQL that keeps `by (company, ...)`."
                )
    rules = yaml.dump(built, Dumper=RulesDumper, sort_keys=False, width=120)
    if output:
        with open(output, "w", encoding="utf-8") as rules_file:
            rules_file.write(rules)
        command.stdout.write(f"Wrote {output}")
    else:
        command.stdout.write(rules)
