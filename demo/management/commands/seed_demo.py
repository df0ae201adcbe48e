"""`manage.py seed_demo`: the demo companies' incident history (demo.incidents)."""
from django.core.management.base import BaseCommand

from demo.incidents import DemoDataExists, seed_demo


def positive(value):
    number = int(value)
    if number < 1:
        raise ValueError(value)
    return number


def not_negative(value):
    number = int(value)
    if number < 0:
        raise ValueError(value)
    return number


class Command(BaseCommand):
    help = (
        "Generate a deterministic demo history for the last --days days ending yesterday (UTC): companies "
        "comp-acme, comp-globex, comp-initech, then comp-demo-N, with services, incidents, raw alerts, patch scans "
        "and demo observations. Does nothing when the demo companies already have data (see --reset)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--companies", type=positive, default=2, help="How many demo companies (default 2).")
        parser.add_argument("--incidents", type=not_negative, default=400, help="Reported incidents over all companies (default 400).")
        parser.add_argument("--alerts", type=not_negative, default=4000, help="Raw, uncorrelated alerts over all companies (default 4000).")
        parser.add_argument("--days", type=positive, default=30, help="Length of the period, ending yesterday (default 30).")
        parser.add_argument("--seed", type=int, default=42, help="The random seed; the same seed gives the same data (default 42).")
        parser.add_argument("--reset", action="store_true", help="Delete the demo companies and everything of theirs first.")

    def handle(self, *args, companies, incidents, alerts, days, seed, reset, **options):
        try:
            summary = seed_demo(
                companies=companies, incidents=incidents, alerts=alerts, days=days, seed=seed, reset=reset, progress=True
            )
        except DemoDataExists as exists:
            self.stdout.write(f"{exists} Nothing was seeded; use --reset to replace it.")
            return
        for note in summary.notes:
            self.stdout.write(note)
        for what, count in summary.rows.items():
            self.stdout.write(f"{count:>10} {what}")
        self.stdout.write(self.style.SUCCESS(f"Seeded {', '.join(summary.companies)}."))
