"""The nightly work of steps.run_steps again, on worker processes, in the chunks the nightly run hands its workers."""
import multiprocessing
import os
import time
from concurrent.futures import ProcessPoolExecutor

import psycopg

from .config import SCALES
from .databases import drop_database


NIGHTLY_WORKERS = 2


def _start_worker(database_url):
    os.environ.update(DATABASE_URL=database_url, DJANGO_SETTINGS_MODULE="companyos.settings.local", CELERY_BROKER_URL="")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django

    django.setup()


def _worker_ready(_):
    time.sleep(0.5)  # holds this worker, so that the next warm-up goes to another


def _correlate_company(company_id):
    from tenancy.models import Company
    from incidents.services import correlate_alerts

    return correlate_alerts(company=Company.objects.get(pk=company_id))


def _analyze_correlated():
    # What autovacuum does after a load this size; the one-process run analyses here too.
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE incidents_incident, incidents_alert")


def _backfill_chunk(slug, start, end):
    from kpis.choices import ObservationSource
    from kpis.observations import compute_observations

    return compute_observations(slug, since=start, until=end, source=ObservationSource.BACKFILL, run="bench").written


def _day_snapshots(day):
    from scoring.services import compute_snapshots

    return len(compute_snapshots(day))


def _one_night(day_iso):
    from pipeline.tasks import start_nightly_run

    start_nightly_run.delay(day_iso)


def parallel_nightly_work(scale, table, database_url, workers_url):
    """
    Correlation (a company per chunk), every backfill (a KPI's run of days per chunk), the snapshots (a day per
    chunk) and one night on NIGHTLY_WORKERS processes against the copy of the seeded database; then check that
    the copy holds the observations and snapshots the one-process run stored.
    """
    from demo.period import demo_period
    from tenancy.models import Company
    from kpis.calculators import CALCULATORS, Period

    start, end = demo_period(SCALES[scale]["days"])
    days = [day.start.date() for day in Period(start, end).days()]
    chunks = [(slug, chunk.start, chunk.end) for slug in sorted(CALCULATORS) for chunk in CALCULATORS[slug].periods(Period(start, end))]
    company_ids = list(Company.objects.order_by("pk").values_list("pk", flat=True))
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(NIGHTLY_WORKERS, mp_context=context, initializer=_start_worker, initargs=(workers_url,)) as pool:
        list(pool.map(_worker_ready, range(NIGHTLY_WORKERS)))  # workers start before the clock, as Celery's do
        began = time.perf_counter()
        list(pool.map(_correlate_company, company_ids))
        pool.submit(_analyze_correlated).result()
        correlated = time.perf_counter() - began
        list(pool.map(_backfill_chunk, *zip(*chunks)))
        list(pool.map(_day_snapshots, days))
        pool.submit(_one_night, days[-1].isoformat()).result()
        seconds = time.perf_counter() - began
    ours, theirs = _stored_totals(database_url), _stored_totals(workers_url)
    note = "the same observations and snapshots as in one process" if ours == theirs else f"differs from one process: {theirs} vs {ours}"
    table.add(f"nightly work on {NIGHTLY_WORKERS} worker processes", seconds, note=note)
    _, correlation_floor = table.floors["correlate all alerts"]
    table.goal(
        "nightly_seconds", seconds,
        f"correlation is {correlated:.0f} s of it; its SQL floor alone takes {correlation_floor:.0f} s in one process",
    )
    drop_database(workers_url)


def _stored_totals(database_url):
    """Computed observations and snapshots of a database: counts and rounded sums, to compare two runs."""
    with psycopg.connect(database_url) as database:
        return database.execute(
            """
            SELECT (SELECT count(*) FROM kpis_observation WHERE source IN ('backfill', 'nightly')),
                   (SELECT round(sum(value)::numeric, 3) FROM kpis_observation WHERE source IN ('backfill', 'nightly')),
                   (SELECT count(*) FROM scoring_scoresnapshot),
                   (SELECT round(sum(composite)::numeric, 3) FROM scoring_scoresnapshot)
            """
        ).fetchone()

