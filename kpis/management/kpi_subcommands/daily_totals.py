"""Rebuild the stored daily totals of the methodology proof (/api/metrics/kpis/) for a range of UTC days.

The days are half-open [--since, --until): by default the 90 days before today (UTC). Each day's totals are
replaced as a whole, so running it twice stores the same rows.
"""
import datetime

from django.core.management.base import CommandError
from django.utils import timezone

from kpis import daily_totals
from tenancy.models import Company

DEFAULT_DAYS = 90


def add_arguments(parser):
    parser.add_argument("--since", type=datetime.date.fromisoformat, metavar="DATE", help="First day (default: 90 days ago).")
    parser.add_argument("--until", type=datetime.date.fromisoformat, metavar="DATE", help="Day after the last (default: today).")
    parser.add_argument("--company", metavar="SLUG", help="Only this company.")


def handle(command, *, since, until, company, **options):
    until = until or timezone.now().astimezone(datetime.timezone.utc).date()
    since = since or until - datetime.timedelta(days=DEFAULT_DAYS)
    if since >= until:
        raise CommandError(f"--since ({since}) must be before --until ({until}).")
    company_ids = None
    if company is not None:
        company_ids = list(Company.objects.filter(slug=company).values_list("pk", flat=True))
        if not company_ids:
            raise CommandError(f"There is no company with the slug '{company}'.")
    daily_totals.refresh(daily_totals.days_between(since, until), company_ids)
    scope = f" for {company}" if company else ""
    command.stdout.write(f"Daily totals stored from {since} to {until}{scope}.")
