"""`manage.py seed_demo_sources`: every data source of demo.sources, fed through its connector."""
from django.core.management.base import BaseCommand, CommandError

from demo.companies import company_identities
from demo.period import demo_period
from demo.registry import discover_sources
from tenancy.models import Company

SOURCES = discover_sources()


class Command(BaseCommand):
    help = (
        "Feed the demo companies' data-source history through the connectors, as the tools would send it: "
        f"{', '.join(source.name for source in SOURCES)}. Safe to run again: every payload is a redelivery the second time."
    )

    def add_arguments(self, parser):
        parser.add_argument("--companies", type=int, default=2)
        parser.add_argument("--days", type=int, default=30)
        parser.add_argument("--seed", type=int, default=42)

    def handle(self, *args, companies, days, seed, **options):
        slugs = [slug for slug, _ in company_identities(companies)]
        found = list(Company.objects.filter(slug__in=slugs).prefetch_related("domains__services"))
        if len(found) != len(slugs):
            raise CommandError("Seed the demo companies first (`manage.py seed_demo`).")
        start, end = demo_period(days)
        for source in SOURCES:
            summary = source.seed(found, start, end, seed)
            self.stdout.write(f"{source.name}: {summary}")
