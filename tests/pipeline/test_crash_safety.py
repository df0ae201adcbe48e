"""
Crash safety of the nightly run on a real worker: a worker killed with SIGKILL mid-run, and a database
connection dropped mid-task. The worker is made to stop at a known point by holding, from another
connection, an uncommitted observation with the very key one KPI's computation is about to write.
"""
import pytest

from kpis.models import Observation
from pipeline.models import NightlyChunk
from pipeline.tasks import start_nightly_run
from tests.pipeline.helpers import (
    BROKER_URL,
    NIGHT,
    OBSERVATION_KEY_COLUMNS,
    RUN_TIMEOUT,
    backend_waiting_for_a_lock,
    build_night,
    forget_night,
    night_outcome,
    observation_key_held,
    wait_for_the_run_to_finish,
)
from tests.workers import Worker, running_workers, send_task, wait_for

# Workers see committed data only; serialized_rollback restores what migrations seed (dimension weights).
pytestmark = [pytest.mark.worker, pytest.mark.slow, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

# A KPI in the middle of the run: the KPIs before it are done when the worker stops at it.
BLOCKED_KPI = "p1-incident-count"


def uninterrupted_night():
    """The outcome of the night run eagerly in this process, never interrupted; then forgotten again."""
    start_nightly_run.delay(NIGHT.isoformat())
    outcome = night_outcome()
    assert outcome["snapshots"], "the reference run scored nothing"
    blocked_key = Observation.objects.filter(kpi__slug=BLOCKED_KPI).values(*OBSERVATION_KEY_COLUMNS).get()
    forget_night()
    return outcome, blocked_key


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
