"""Recompute the score snapshots of a day or a range of days, or show what today's definitions would make of them."""
import datetime

from django.core.management.base import BaseCommand, CommandError
from django.db.models import Min
from django.utils import timezone

from tenancy.models import Company
from kpis.models import Observation
from scoring.breaches import evaluate_breaches
from scoring.choices import ScopeLevel
from scoring.models import SCORED_DIMENSIONS
from scoring.services import compare_with_now, day_bounds, store_day_snapshots
from scoring.snapshot_history import pruned_inputs, replacement_reasons
from scoring.versions import definitions_in_force


def _day(text):
    try:
        return datetime.date.fromisoformat(text)
    except ValueError:
        raise CommandError(f"--date/--until: '{text}' is not a date (YYYY-MM-DD).")


def _number(score):
    return "-" if score is None else f"{score:.1f}"


def _company_level(snapshots):
    return next((snapshot for snapshot in snapshots if snapshot.level == ScopeLevel.COMPANY), None)


class Command(BaseCommand):
    help = (
        "Recompute the score snapshots of --date (through --until) with the definitions and weights in force on "
        "each day, and evaluate those days' breaches, as the nightly run does, saying per company what each day "
        "replaced and why; a day whose raw observations retention pruned keeps its stored snapshots. --as-of-now "
        "compares them with today's definitions instead, storing nothing."
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
                self._store(day, scope)
            day += datetime.timedelta(days=1)

    def _store(self, day, company):
        """Store the day's snapshots per company, saying what each replaced and why, then evaluate its breaches."""
        touched = 0
        for stored in store_day_snapshots(day, company=company):
            where = f"{day} {stored.company.slug}"
            if stored.kept_because:
                kept = _company_level(stored.snapshots)
                what = f"kept the stored snapshots (composite {_number(kept.composite)})" if kept else "stored no snapshots"
                self.stdout.write(f"{where}: not recomputed, {what}: {stored.kept_because}")
                continue
            new = _company_level(stored.snapshots)
            old = _company_level(stored.replaced)
            if old is None:
                self.stdout.write(f"{where}: stored {len(stored.snapshots)} snapshots, composite {_number(new.composite)}")
            else:
                self.stdout.write(
                    f"{where}: replaced {len(stored.replaced)} snapshots, composite {_number(old.composite)} -> "
                    f"{_number(new.composite)} ({replacement_reasons(old, new)})"
                )
            touched += len(evaluate_breaches(day, company=stored.company))
        self.stdout.write(f"{day}: {touched} breaches open or closed")

    def _print_comparison(self, day, company):
        dimensions = [dimension.value for dimension in SCORED_DIMENSIONS]
        self.stdout.write("  ".join(["day", "scope", "stored", "as-of-now", *dimensions]))
        rows = compare_with_now(day, company=company)
        start, end = day_bounds(day)
        versions = definitions_in_force(timezone.now(), on=day)
        # A figure computed from what retention left of a day is not shown at all.
        pruned = {}
        for _, current in rows:
            if current.level == ScopeLevel.COMPANY:
                pruned[current.company_id] = pruned_inputs(current.company, day, start, end, current, versions)
                if pruned[current.company_id]:
                    self.stdout.write(f"{day} {current.company.slug}: no as-of-now scores: {pruned[current.company_id]}")
        for stored, current in rows:
            if pruned[current.company_id]:
                continue
            cells = [
                f"{_number(stored.dimensions[name]['score']) if stored else '-'}->{_number(current.dimensions[name]['score'])}"
                for name in dimensions
            ]
            stored_composite = _number(stored.composite) if stored else "(none)"
            self.stdout.write("  ".join([str(day), current.scope_label, stored_composite, _number(current.composite), *cells]))
