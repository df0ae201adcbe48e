"""
Crash safety of the nightly run on a real worker: a worker killed with SIGKILL mid-run, and a database
connection dropped mid-task. The worker is made to stop at a known point by holding, from another
connection, an uncommitted observation with the very key one KPI's computation is about to write.
"""
from contextlib import contextmanager

import psycopg
import pytest
import redis

from incidents.models import Incident
from kpis.models import Observation
from pipeline.models import NightlyChunk
from pipeline.tasks import start_nightly_run
from scoring.models import Breach, ScoreSnapshot
from tests.test_nightly_worker import NIGHT, build_night
from tests.workers import Worker, running_workers, send_task, wait_for, worker_database_url

# Workers see committed data only; serialized_rollback restores what migrations seed (dimension weights).
pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

# Redis database 12 is this file's own (and test_concurrency's / test_chunked_nightly's, never at once).
BROKER_URL = "redis://127.0.0.1:6379/12"
RUN_TIMEOUT = 90
# A KPI in the middle of the run: the KPIs before it are done when the worker stops at it.
BLOCKED_KPI = "p1-incident-count"

OBSERVATION_KEY_COLUMNS = ("kpi_id", "company_id", "domain_id", "service_id", "incident_id", "observed_at")


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


def uninterrupted_night():
    """The outcome of the night run eagerly in this process, never interrupted; then forgotten again."""
    start_nightly_run.delay(NIGHT.isoformat())
    outcome = night_outcome()
    assert outcome["snapshots"], "the reference run scored nothing"
    blocked_key = Observation.objects.filter(kpi__slug=BLOCKED_KPI).values(*OBSERVATION_KEY_COLUMNS).get()
    forget_night()
    return outcome, blocked_key


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


def test_a_worker_killed_mid_run_then_restarted_and_rerun_leaves_the_rows_of_an_uninterrupted_run(computed_kpis, tmp_path):
    build_night()
    expected, blocked_key = uninterrupted_night()

    with running_workers(BROKER_URL, tmp_path, name="crash") as (worker,):
        with observation_key_held(blocked_key):
            send_task(start_nightly_run, BROKER_URL, day_iso=NIGHT.isoformat())
            wait_for(lambda: backend_waiting_for_a_lock() is not None, timeout=RUN_TIMEOUT, what=lambda: f"the worker to reach {BLOCKED_KPI}\n{worker.output()}")
            worker.kill()
        interrupted = night_outcome()
        assert interrupted["observations"] and interrupted["observations"] != expected["observations"]
        assert interrupted["snapshots"] == []
        assert NightlyChunk.objects.filter(day=NIGHT, done_at__isnull=True).exists()

        restarted = Worker(BROKER_URL, tmp_path / "crash-restarted.log", "crash-restarted").start()
        try:
            send_task(start_nightly_run, BROKER_URL, day_iso=NIGHT.isoformat())
            wait_for_the_run_to_finish([restarted], snapshots=len(expected["snapshots"]))
        finally:
            restarted.stop()

    assert night_outcome() == expected
    assert not NightlyChunk.objects.filter(day=NIGHT, done_at__isnull=True).exists()


def test_a_task_whose_database_connection_drops_retries_and_completes(computed_kpis, tmp_path):
    build_night()
    expected, blocked_key = uninterrupted_night()

    with running_workers(BROKER_URL, tmp_path, name="dropped") as (worker,):
        with observation_key_held(blocked_key) as holder:
            send_task(start_nightly_run, BROKER_URL, day_iso=NIGHT.isoformat())
            wait_for(lambda: backend_waiting_for_a_lock() is not None, timeout=RUN_TIMEOUT, what=lambda: f"the worker to reach {BLOCKED_KPI}\n{worker.output()}")
            holder.execute("SELECT pg_terminate_backend(%s)", [backend_waiting_for_a_lock()])
        wait_for_the_run_to_finish([worker], snapshots=len(expected["snapshots"]))
        log = worker.output()

    assert "OperationalError" in log and "Retry in" in log
    assert night_outcome() == expected
