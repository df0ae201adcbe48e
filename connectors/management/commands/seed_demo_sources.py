from django.core.management.base import BaseCommand, CommandError

from connectors.demo import prometheus_demo
from delivery.demo import github_demo
from finance.demo import finance_demo
from incidents.demo import company_identities, demo_period
from incidents.models import Company
from incidents.pagerduty_demo import pagerduty_demo
from product.demo import product_demo
from security.demo import scanners_demo

# Each connector's demo: real-format payloads fed through the connector's own path, by source name.
SOURCES = {
    "prometheus": prometheus_demo,
    "pagerduty": pagerduty_demo,
    "github": github_demo,
    "scanners": scanners_demo,
    "finance": finance_demo,
    "product": product_demo,
}


class Command(BaseCommand):
    help = (
        "Feed the demo companies' data-source history through the connectors, as the tools would send it: "
        f"{', '.join(SOURCES)}. Safe to run again: every payload is a redelivery the second time."
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
        for name, seed_source in SOURCES.items():
            summary = seed_source(found, start, end, seed)
            self.stdout.write(f"{name}: {summary}")
