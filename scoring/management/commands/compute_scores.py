"""Recompute the score snapshots of a day or a range of days, or show what today's definitions would make of them."""
import datetime

from django.core.management.base import BaseCommand, CommandError
from django.db.models import Min
from django.utils import timezone

from tenancy.models import Company
from kpis.models import Observation
from scoring.breaches import evaluate_breaches
from scoring.models import SCORED_DIMENSIONS
from scoring.services import compare_with_now, compute_snapshots


def _day(text):
    try:
        return datetime.date.fromisoformat(text)
    except ValueError:
        raise CommandError(f"--date/--until: '{text}' is not a date (YYYY-MM-DD).")


def _number(score):
    return "-" if score is None else f"{score:.1f}"


class Command(BaseCommand):
    help = (
        "Recompute the score snapshots of --date (through --until) with the definitions and weights in force on "
        "each day, and evaluate those days' breaches, as the nightly run does; --as-of-now compares them with "
        "today's definitions instead, storing nothing."
    )

    def add_arguments(self, parser):
        days = parser.add_mutually_exclusive_group(required=True)
        days.add_argument("--date", help="First day, YYYY-MM-DD.")
        days.add_argument(
            "--all-days", action="store_true", help="Every day from the earliest observation through yesterday (UTC)."
        )
        parser.add_argument("--until", help="Last day (inclusive), YYYY-MM-DD; default --date.")
        parser.add_argument("--company", help="Only this company (slug); default every company.")
        parser.add_argument("--as-of-now", action="store_true", help="Score with today's definitions; store nothing.")

    def handle(self, *args, date, all_days, until, company, as_of_now, **options):
        if all_days:
            if until:
                raise CommandError("--all-days ends yesterday; leave out --until.")
            earliest = Observation.objects.aggregate(earliest=Min("observed_at"))["earliest"]
            if earliest is None:
                self.stdout.write("No observations yet: nothing to score.")
                return
            first = earliest.astimezone(datetime.timezone.utc).date()
            last = timezone.now().date() - datetime.timedelta(days=1)
        else:
            first = _day(date)
            last = _day(until) if until else first
        if last < first:
            raise CommandError(f"--until ({last}) is before --date ({first}).")
        scope = None
        if company:
            scope = Company.objects.filter(slug=company).first()
            if scope is None:
                raise CommandError(f"--company: no company with the slug '{company}'.")
        day = first
        while day <= last:
            if as_of_now:
                self._print_comparison(day, scope)
            else:
                snapshots = compute_snapshots(day, company=scope)
                opened = sum(
                    len(evaluate_breaches(day, company=each))
                    for each in ([scope] if scope else Company.objects.order_by("id"))
                )
                self.stdout.write(f"{day}: {len(snapshots)} snapshots, {opened} breaches open or closed")
            day += datetime.timedelta(days=1)

    def _print_comparison(self, day, company):
        dimensions = [dimension.value for dimension in SCORED_DIMENSIONS]
        self.stdout.write("  ".join(["day", "scope", "stored", "as-of-now", *dimensions]))
        for stored, current in compare_with_now(day, company=company):
            cells = [
                f"{_number(stored.dimensions[name]['score']) if stored else '-'}->{_number(current.dimensions[name]['score'])}"
                for name in dimensions
            ]
            stored_composite = _number(stored.composite) if stored else "(none)"
            self.stdout.write("  ".join([str(day), current.scope_label, stored_composite, _number(current.composite), *cells]))
