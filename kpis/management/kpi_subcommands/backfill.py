"""Recompute observations of computed KPIs from incident data, overwriting computed rows by key.

The period is on observed_at, half-open [--since, --until): by default the 90 days before today (UTC). The
stored daily totals of /api/metrics/kpis/ are rebuilt for the same days.
Rows ingested through the API or the demo loader are never touched. Running it twice gives identical rows.
Before a KPI that counts what alert correlation made (noise reduction), the alerts issued before --until are
correlated as the nightly run does (the company's, or every company's that is correlated automatically); days
that still have alerts awaiting correlation get no value, and the output lists them.
"""
import datetime
import sys

from django.core.exceptions import ValidationError
from django.core.management.base import CommandError
from django.utils import timezone
from tqdm import tqdm

from incidents.services import correlate_alerts
from tenancy.models import Company
from kpis import daily_totals
from kpis.calculators import CALCULATORS, Period, UnknownCalculator, get_calculator
from kpis.choices import ObservationSource
from kpis.observations import as_utc_datetime, compute_observations, days_awaiting_correlation, definition_for

DEFAULT_DAYS = 90


def add_arguments(parser):
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--kpi", action="append", metavar="SLUG", help="A computed KPI; repeat for several.")
    which.add_argument("--all", action="store_true", help="Every KPI that has a calculator.")
    parser.add_argument("--since", type=datetime.date.fromisoformat, metavar="DATE", help="First day (default: 90 days ago).")
    parser.add_argument("--until", type=datetime.date.fromisoformat, metavar="DATE", help="Day after the last (default: today).")
    parser.add_argument("--company", metavar="SLUG", help="Only this company.")


def handle(command, *, kpi, all, since, until, company, **options):
    slugs = sorted(CALCULATORS) if all else list(dict.fromkeys(kpi))
    until = until or timezone.now().astimezone(datetime.timezone.utc).date()
    since = since or until - datetime.timedelta(days=DEFAULT_DAYS)
    if since >= until:
        raise CommandError(f"--since ({since}) must be before --until ({until}).")
    company_obj = _company(company)
    calculators = _calculators(slugs)
    period = Period(as_utc_datetime(since, "since"), as_utc_datetime(until, "until"))
    run = f"backfill-{timezone.now():%Y%m%dT%H%M%S.%fZ}"
    chunks = sum(len(calc.periods(period)) for calc in calculators)
    scope = f" for {company_obj.slug}" if company_obj else ""
    awaiting = _correlate_first(command, calculators, period, company_obj)
    # The bar goes to the terminal only; what was written goes to stdout for logs and scripts.
    with tqdm(total=chunks, unit="chunk", file=sys.stderr, disable=not sys.stderr.isatty()) as bar:
        for calc in calculators:
            bar.set_description(calc.slug)
            result = compute_observations(
                calc.slug,
                since=since,
                until=until,
                company=company_obj,
                source=ObservationSource.BACKFILL,
                run=run,
                on_period=lambda chunk, chunk_result: bar.update(),
            )
            with tqdm.external_write_mode(file=sys.stderr):
                command.stdout.write(
                    f"{calc.slug}: wrote {result.written}, removed {result.removed} stale "
                    f"observations from {since} to {until}{scope}."
                )
                if calc.reads_correlation and awaiting:
                    command.stdout.write(
                        f"{calc.slug}: no value for {_days_listed(awaiting)}: alerts await correlation there "
                        "(`correlate_alerts --company SLUG`, then backfill again)."
                    )
    # The proof's daily totals count what the calculators count: rebuilt from the same, just correlated, rows.
    daily_totals.refresh(daily_totals.days_between(since, until), company_obj and [company_obj.pk])
    command.stdout.write(f"Daily totals stored from {since} to {until}{scope}.")
    command.stdout.write(f"Backfill {run} done.")


def _correlate_first(command, calculators, period, company):
    """
    Correlate the alerts issued before the period's end when a calculator counts correlation's work, as the nightly
    run does; return the company days of the period still awaiting it ({company slug: [days]}).
    """
    if not any(calc.reads_correlation for calc in calculators):
        return {}
    created = correlate_alerts(company=company, until=period.end)
    command.stdout.write(f"Correlated the pending alerts before {period.end:%Y-%m-%d}: {created} new incident(s).")
    return days_awaiting_correlation(since=period.start, until=period.end, company=company)


def _days_listed(awaiting):
    return "; ".join(f"{slug} on {', '.join(day.isoformat() for day in days)}" for slug, days in awaiting.items())


def _company(slug):
    if slug is None:
        return None
    try:
        return Company.objects.get(slug=slug)
    except Company.DoesNotExist:
        raise CommandError(f"There is no company with the slug '{slug}'.") from None


def _calculators(slugs):
    calculators = []
    for slug in slugs:
        try:
            calculators.append(get_calculator(slug))
            definition_for(slug)
        except (UnknownCalculator, ValidationError) as error:
            raise CommandError(_message(error)) from None
    return calculators


def _message(error):
    if isinstance(error, ValidationError):
        return " ".join(error.messages)
    return str(error)
