"""
The nightly run (beat, 02:00 UTC): correlate new alerts, compute the previous UTC day's observations of
every computed KPI, then the day's score snapshots.

The steps run as a chain of small tasks, one per KPI, each well under the broker's visibility timeout.
Tasks are acknowledged late, so a worker killed mid-task has the task redelivered; every step is
idempotent (correlation creates nothing twice, observations are overwritten by key in one transaction
per day, snapshots are recomputed), so a re-run, or two runs of the same day, give the same rows.
A chain rather than a chord: chords need a result backend, and results are not kept.
"""
import datetime

from celery import chain, shared_task

from companyos.celery import DATABASE_TASK_OPTIONS

from incidents.tasks import correlate_alerts
from kpis.choices import ObservationSource
from kpis.observations import compute_observations, nightly_slugs
from scoring.tasks import compute_day_snapshots



def previous_utc_day():
    return datetime.datetime.now(datetime.timezone.utc).date() - datetime.timedelta(days=1)


def nightly_run_id(day):
    """Every write of the run of `day` carries this id, so re-runs of a day are indistinguishable."""
    return f"nightly-{day.isoformat()}"


def nightly_chain(day):
    """The signatures of the run of `day`: correlation, one computation per KPI, then scoring."""
    day_end = datetime.datetime.combine(day + datetime.timedelta(days=1), datetime.time.min, tzinfo=datetime.timezone.utc)
    return chain(
        correlate_alerts.si(until=day_end.isoformat()),
        *(compute_kpi_day.si(slug, day.isoformat()) for slug in nightly_slugs()),
        compute_day_snapshots.si(day.isoformat()),
    )


@shared_task(name="kpis.tasks.start_nightly_run", **DATABASE_TASK_OPTIONS)
def start_nightly_run(day_iso=None):
    """Beat entry point: start the run of `day_iso` (ISO date), by default the previous UTC day."""
    day = datetime.date.fromisoformat(day_iso) if day_iso else previous_utc_day()
    nightly_chain(day).apply_async()
    return day.isoformat()


@shared_task(name="kpis.tasks.compute_kpi_day", **DATABASE_TASK_OPTIONS)
def compute_kpi_day(slug, day_iso, company_id=None):
    """Recompute the observations of one KPI observed on one UTC day (optionally one company)."""
    day = datetime.date.fromisoformat(day_iso)
    result = compute_observations(
        slug,
        since=day,
        until=day + datetime.timedelta(days=1),
        company=company_id,
        source=ObservationSource.NIGHTLY,
        run=nightly_run_id(day),
    )
    return result._asdict()
