"""
The nightly run (beat, 02:00 UTC): check that no alert awaits correlation, compute the previous UTC day's
observations of every computed KPI, then the day's score snapshots.

Alerts are correlated as they arrive; the run first correlates any left pending (one task, a company at a time
under the company's row lock) and reports how many it found. It then fans out one
independent task per KPI -- a chunk that any worker may take, so more workers finish the night sooner --
and records each chunk as pending in NightlyChunk. Each chunk marks itself done when its observations are
committed; the one that finds no chunk pending any more queues the day's scoring (per company). No result
backend is needed, and a chunk delivered twice only marks itself done twice.

Tasks are acknowledged late, so a worker killed mid-task has the task redelivered; every step is
idempotent (correlation creates nothing twice, observations are overwritten by key in one transaction
per day, snapshots are recomputed), so a re-run, or two runs of the same day at once, give the same rows.
"""
import datetime
import inspect

from celery import chain, group, shared_task
from celery.signals import task_failure
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from companyos import events
from companyos.celery import DATABASE_TASK_OPTIONS
from incidents.partitions import ALERT_MONTHS
from incidents.tasks import correlate_pending_alerts
from kpis.choices import ObservationSource
from kpis.observations import compute_observations, nightly_slugs
from kpis.partitions import OBSERVATION_MONTHS
from kpis.tasks.daily_totals import refresh_daily_totals
from scoring.tasks import compute_day_snapshots

from .models import NightlyChunk


def previous_utc_day():
    return datetime.datetime.now(datetime.timezone.utc).date() - datetime.timedelta(days=1)


def nightly_run_id(day):
    """Every write of the run of `day` carries this id, so re-runs of a day are indistinguishable."""
    return f"nightly-{day.isoformat()}"


def nightly_chain(day):
    """
    The signatures of the run of `day`: the check for pending alerts, the refresh of the recent days' stored daily
    totals, then the fan-out into one chunk per KPI.
    """
    day_end = datetime.datetime.combine(day + datetime.timedelta(days=1), datetime.time.min, tzinfo=datetime.timezone.utc)
    return chain(
        correlate_pending_alerts.si(until=day_end.isoformat()),
        refresh_daily_totals.si(day.isoformat()),
        fan_out_kpi_days.si(day.isoformat()),
    )


def mark_chunks_pending(day, slugs):
    """Record the chunks of the run of `day` as pending (again, on a re-run); drop those of retired KPIs."""
    with transaction.atomic():
        NightlyChunk.objects.filter(day=day).exclude(kpi_slug__in=slugs).delete()
        NightlyChunk.objects.bulk_create(
            [NightlyChunk(day=day, kpi_slug=slug, done_at=None) for slug in slugs],
            update_conflicts=True,
            unique_fields=["day", "kpi_slug"],
            update_fields=["done_at"],
        )


def mark_chunk_done(day, slug):
    """Mark one chunk done; True when it was a chunk of the day's run and, after it committed, none is pending."""
    if not NightlyChunk.objects.filter(day=day, kpi_slug=slug).update(done_at=timezone.now()):
        return False
    # Checked after the commit of our own mark, so of two chunks finishing together at least the later sees
    # both done; both may, and scoring twice is harmless.
    return not NightlyChunk.objects.filter(day=day, done_at__isnull=True).exists()


@shared_task(name="pipeline.tasks.start_nightly_run", **DATABASE_TASK_OPTIONS)
def start_nightly_run(day_iso=None):
    """Beat entry point: start the run of `day_iso` (ISO date), by default the previous UTC day."""
    day = datetime.date.fromisoformat(day_iso) if day_iso else previous_utc_day()
    nightly_chain(day).apply_async()
    return day.isoformat()


@shared_task(name="pipeline.tasks.create_month_partitions", **DATABASE_TASK_OPTIONS)
def create_month_partitions(since=None):
    """
    Daily: the month partitions of alerts and observations, this month and PARTITION_MONTHS_AHEAD ahead; with
    `since` (an ISO date: a load of past data), every month from its month as well. Idempotent.
    """
    today = timezone.now()
    for partitions in (ALERT_MONTHS, OBSERVATION_MONTHS):
        partitions.create_months(today, settings.PARTITION_MONTHS_AHEAD, since=since and datetime.date.fromisoformat(since))


@shared_task(name="pipeline.tasks.fan_out_kpi_days", **DATABASE_TASK_OPTIONS)
def fan_out_kpi_days(day_iso):
    """Mark one chunk per computed KPI pending for the day, then queue them all at once for any worker."""
    day = datetime.date.fromisoformat(day_iso)
    slugs = nightly_slugs()
    mark_chunks_pending(day, slugs)
    if not slugs:
        compute_day_snapshots.delay(day_iso)
        return
    group(compute_kpi_day.si(slug, day_iso) for slug in slugs).apply_async()


@shared_task(name="pipeline.tasks.compute_kpi_day", **DATABASE_TASK_OPTIONS)
def compute_kpi_day(slug, day_iso, company_id=None):
    """
    Recompute the observations of one KPI observed on one UTC day (optionally one company).

    As a chunk of the nightly run (no company), marks itself done and queues the day's scoring when it
    was the last one pending.
    """
    day = datetime.date.fromisoformat(day_iso)
    result = compute_observations(
        slug,
        since=day,
        until=day + datetime.timedelta(days=1),
        company=company_id,
        source=ObservationSource.NIGHTLY,
        run=nightly_run_id(day),
    )
    if company_id is None and mark_chunk_done(day, slug):
        compute_day_snapshots.delay(day_iso)
    return result._asdict()


@task_failure.connect
def announce_failed_nightly_task(sender=None, task_id=None, exception=None, args=(), kwargs=None, **_):
    """A task of the nightly run that failed for good (retries used up, or an error it does not retry) is announced."""
    if sender is None or not sender.name.startswith(f"{__name__}."):
        return
    events.announce(
        events.nightly_run_failed, sender=sender, task_id=task_id, arguments=_arguments(sender, args, kwargs or {}),
        error=f"{type(exception).__name__}: {exception}",
    )


def _arguments(task, args, kwargs):
    """The task's arguments by name (e.g. {"slug": ..., "day_iso": ...}), as a reader of the announcement needs them."""
    return dict(inspect.signature(task.run).bind_partial(*(args or ()), **kwargs).arguments)
