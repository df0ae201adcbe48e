from django.core.management.base import BaseCommand, CommandError
from django.utils.dateparse import parse_datetime

from incidents import services
from tenancy.models import Company


class Command(BaseCommand):
    help = "Group uncorrelated alerts into incidents with each company's correlation config."

    def add_arguments(self, parser):
        parser.add_argument("--company", help="The company slug (default: every company with auto_correlate on).")
        parser.add_argument("--until", help="Only alerts issued before this ISO datetime (default: now).")

    def handle(self, *args, company=None, until=None, **options):
        scope = None
        if company:
            scope = Company.objects.filter(slug=company).first()
            if scope is None:
                raise CommandError(f"--company: no company with the slug '{company}'.")
        until_at = None
        if until:
            until_at = parse_datetime(until)
            if until_at is None or until_at.tzinfo is None:
                raise CommandError(f"--until: '{until}' is not an ISO datetime with a time zone, e.g. 2024-01-15T00:00:00Z.")
        created = services.correlate_alerts(company=scope, until=until_at)
        self.stdout.write(f"{created} incidents created.")
