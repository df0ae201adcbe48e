"""The nightly run split into chunks (one per KPI) that several workers take in parallel."""
import re

import pytest

from pipeline.tasks import start_nightly_run
from tests.pipeline.helpers import (
    BROKER_URL,
    NIGHT,
    SNAPSHOTS_OF_THE_NIGHT,
    build_two_companies,
    forget_night,
    night_outcome,
    wait_for_the_run_to_finish,
)
from tests.workers import running_workers, send_task

pytestmark = [pytest.mark.worker, pytest.mark.slow, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def test_two_workers_computing_the_chunks_in_parallel_give_the_result_of_one(computed_kpis, tmp_path):
    build_two_companies()
    with running_workers(BROKER_URL, tmp_path, count=1, name="one") as workers:
        send_task(start_nightly_run, BROKER_URL, day_iso=NIGHT.isoformat())
        wait_for_the_run_to_finish(workers, snapshots=SNAPSHOTS_OF_THE_NIGHT)
        on_one_worker = night_outcome()
    forget_night()

    with running_workers(BROKER_URL, tmp_path, count=2, name="two") as workers:
        send_task(start_nightly_run, BROKER_URL, day_iso=NIGHT.isoformat())
        wait_for_the_run_to_finish(workers, snapshots=SNAPSHOTS_OF_THE_NIGHT)
        on_two_workers = night_outcome()
        logs = [worker.output() for worker in workers]

    assert on_two_workers == on_one_worker
    assert {"comp-acme", "comp-beta"} <= {row[0] for row in on_one_worker["snapshots"]}
    # Both workers computed some of the KPI chunks.
    assert all(re.search(r"Task pipeline\.tasks\.compute_kpi_day\[[^]]+\] succeeded", log) for log in logs)
