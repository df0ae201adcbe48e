"""
The nightly run's tests share: the night of the sample data, a second company for it, the Redis database the
crash-safety, chunked and concurrency tests run their workers on, and what a run of the night leaves behind.
"""
import datetime
from contextlib import contextmanager

import psycopg
import redis

from incidents.models import Incident
from kpis.models import Observation
from pipeline.models import NightlyChunk
from scoring.models import Breach, ScoreSnapshot
from tests.helpers import build_sample_data, moment
from tests.incidents.factories import AlertFactory
from tests.workers import wait_for, worker_database_url

NIGHT = datetime.date(2024, 1, 12)
# Redis database 12 is the crash-safety, chunked and concurrency tests' own (never used by two at once);
# test_nightly_run's worker has database 14.
BROKER_URL = "redis://127.0.0.1:6379/12"
RUN_TIMEOUT = 90
# Each company's night is scored at three scopes: the company, its domain and its service.
SNAPSHOTS_OF_THE_NIGHT = 6

OBSERVATION_KEY_COLUMNS = ("kpi_id", "company_id", "domain_id", "service_id", "incident_id", "observed_at")


def build_night():
    company = build_sample_data()
    for minute in (0, 5, 10):
        AlertFactory(company=company, asset="db-1", signature="replication_lag", issued_at=moment(12, 15, minute))
    return company


def build_two_companies():
    """The night of test_nightly_run for comp-acme, and a second company with its own history and alerts."""
    build_night()
    beta = build_sample_data("comp-beta")
    for minute in (20, 40):
        AlertFactory(company=beta, asset="web-9", signature="http_5xx", issued_at=moment(12, 16, minute))


def night_outcome():
    """What a run of the night leaves: correlated incidents, observations and snapshots, without pks or times."""
    observations = Observation.objects.order_by("kpi__slug", "company__slug", "observed_at", "incident__external_id", "domain", "service")
    snapshots = ScoreSnapshot.objects.order_by("company__slug", "level", "domain", "service", "day")
    return {
        "incidents": sorted(Incident.objects.values_list("external_id", "severity", "detected_at")),
        "observations": list(
            observations.values_list(
                "kpi__slug", "company__slug", "domain", "service", "incident__external_id", "observed_at", "value", "source", "run"
            )
        ),
        "snapshots": [
            (*row, _counted_observations(inputs))
            for *row, inputs in snapshots.values_list(
                "company__slug", "level", "domain", "service", "day", "composite", "band", "dimensions", "coverage", "kpis", "inputs"
            )
        ],
    }


def _counted_observations(inputs):
    """A snapshot's inputs with each KPI's observation ids (new rows on every run) as how many were counted."""
    return {**inputs, "observations": {slug: len(ids) for slug, ids in inputs.get("observations", {}).items()}}


def forget_night():
    """Remove everything the nightly run writes, so the next run starts from the raw data again."""
    Observation.objects.all().delete()
    ScoreSnapshot.objects.all().delete()
    Breach.objects.all().delete()
    NightlyChunk.objects.all().delete()
    Incident.objects.filter(external_id__startswith="alert-").delete()  # the alerts are uncorrelated again


@contextmanager
def observation_key_held(key):
    """
    Insert, from another connection and without committing, an observation with `key`: a worker writing the
    same key waits on it. Rolled back on exit, which lets the worker go on. Yields the connection.
    """
    with psycopg.connect(worker_database_url()) as holder:
        columns = ", ".join(OBSERVATION_KEY_COLUMNS)
        holder.execute(
            f"INSERT INTO kpis_observation ({columns}, value, confidence, source, run, computed_at) "
            "VALUES (%s, %s, %s, %s, %s, %s, 0, 1, 'api', 'holder', now())",
            [key[column] for column in OBSERVATION_KEY_COLUMNS],
        )
        try:
            yield holder
        finally:
            holder.rollback()


def backend_waiting_for_a_lock():
    """The pid of the database backend of the test database that waits for a lock, or None."""
    with psycopg.connect(worker_database_url(), autocommit=True) as monitor:
        row = monitor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
        ).fetchone()
    return row[0] if row else None


def wait_for_the_run_to_finish(workers, *, snapshots):
    """Until nothing is queued, no chunk of the night is pending and the night is scored in `snapshots` scopes."""
    wait_for(
        lambda: redis.Redis.from_url(BROKER_URL).llen("celery") == 0
        and NightlyChunk.objects.filter(day=NIGHT).exists()
        and not NightlyChunk.objects.filter(day=NIGHT, done_at__isnull=True).exists()
        and ScoreSnapshot.objects.filter(day=NIGHT).count() == snapshots,
        timeout=RUN_TIMEOUT,
        what=lambda: "the run to finish\n" + "\n".join(worker.output() for worker in workers),
    )
