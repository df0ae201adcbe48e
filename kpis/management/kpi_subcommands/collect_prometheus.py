"""Evaluate definitions' PromQL on their Prometheus now, or once a day over a period, and store what it gives.

Without --from, each definition is evaluated at the start of the current hour, as the hourly task does; with
--from [--to], at 00:00 UTC of each day of [--from, --to) (default --to: today). An evaluation made before
changes nothing. Failures are noted on the definition; the command then exits with an error naming them.
"""
import datetime

from django.core.exceptions import ValidationError
from django.core.management.base import CommandError
from django.utils import timezone

from kpis import prometheus
from kpis.observations import definition_for


def add_arguments(parser):
    parser.add_argument("--kpi", action="append", metavar="SLUG", help="A collected KPI; repeat for several (default: all).")
    parser.add_argument("--from", dest="since", type=datetime.date.fromisoformat, metavar="DATE", help="First day of a backfill.")
    parser.add_argument(
        "--to", dest="until", type=datetime.date.fromisoformat, metavar="DATE", help="Day after the last (default: today)."
    )


def handle(command, *, kpi, since, until, **options):
    if until is not None and since is None:
        raise CommandError("--to needs --from.")
    if since is not None:
        until = until or timezone.now().astimezone(datetime.timezone.utc).date()
        if since >= until:
            raise CommandError(f"--from ({since}) must be before --to ({until}).")
    definitions = _definitions(kpi)
    at = prometheus.start_of_hour(timezone.now())
    failed = []
    for definition in definitions:
        try:
            if since is None:
                received = prometheus.collect(definition, at=at)
            else:
                received = prometheus.collect_range(definition, since=since, until=until)
        except prometheus.PrometheusError as error:
            failed.append(definition.slug)
            command.stderr.write(f"{definition.slug}: failed: {error}")
            continue
        command.stdout.write(f"{definition.slug}: {_outcome(received)}")
    if failed:
        raise CommandError(f"Collection failed for {', '.join(failed)}; the failures are noted on the definitions.")


def _definitions(slugs):
    if not slugs:
        return list(prometheus.collected_definitions().order_by("slug"))
    collected = prometheus.collected_definitions().in_bulk(slugs, field_name="slug")
    for slug in slugs:
        if slug not in collected:
            try:
                definition_for(slug)
            except ValidationError as error:
                raise CommandError(" ".join(error.messages)) from None
            raise CommandError(
                f"'{slug}' is not collected: it needs a PromQL expression and an active Prometheus, and not to be retired."
            )
    return [collected[slug] for slug in dict.fromkeys(slugs)]


def _outcome(received):
    event = received.event
    if not received.created:
        return f"evaluated before (source event {event.pk}); nothing changed."
    if event.detail:
        return f"{event.get_status_display().lower()} (source event {event.pk}): {event.detail}"
    written = len(event.produced.get("kpis.observation", []))
    skipped = len(event.produced.get("skipped", []))
    return f"wrote {written} observation(s), skipped {skipped} series (source event {event.pk})."
