"""The nightly run: correlation, the previous day's observations and scoring, eagerly and on a real worker."""
import datetime

import pytest
from django.db.models import Max, Min

from kpis.models import Observation
from pipeline.tasks import nightly_run_id, previous_utc_day, start_nightly_run
from tests.helpers import observation_values
from tests.pipeline.helpers import NIGHT, build_night
from tests.workers import running_workers, send_task, wait_for

# A Redis database no other test uses, flushed before the worker starts.
BROKER_URL = "redis://127.0.0.1:6379/14"
CHAIN_TIMEOUT = 90

# The observations of 2024-01-12 in the sample data, worked out by hand: the automated incident resolved
# in 8 minutes; one P1 in the 30 days; (1 - 8/45) * 100; 1 of 2 resolved by a runbook; 42 of 48
# instances compliant; and the three new alerts of 15:00-15:10, correlated into one incident: 1 - 1/3.
EXPECTED_NIGHT = {
    "mttr": [8.0],
    "mttr-reduction": [82.222],
    "noise-reduction": [66.667],
    "p1-incident-count": [1.0],
    "patch-compliance": [87.5],
    "self-healed": [50.0],
}


def test_the_previous_utc_day_is_the_default_night():
    assert previous_utc_day() == datetime.datetime.now(datetime.timezone.utc).date() - datetime.timedelta(days=1)


def test_a_nightly_run_correlates_new_alerts_then_computes_the_day_of_every_computed_kpi(computed_kpis):
    build_night()

    start_nightly_run.delay(NIGHT.isoformat())

    assert observation_values() == EXPECTED_NIGHT
    assert set(Observation.objects.values_list("source", "run")) == {("nightly", "nightly-2024-01-12")}


def test_running_the_same_night_twice_gives_identical_rows(computed_kpis):
    build_night()
    start_nightly_run.delay(NIGHT.isoformat())
    first = list(Observation.objects.order_by("pk").values_list("pk", "kpi", "company", "incident", "observed_at", "value", "run"))

    start_nightly_run.delay(NIGHT.isoformat())

    assert list(Observation.objects.order_by("pk").values_list("pk", "kpi", "company", "incident", "observed_at", "value", "run")) == first


@pytest.fixture
def celery_worker(transactional_db, tmp_path):
    """A real `celery worker` on its own Redis database, reading and writing the test database."""
    with running_workers(BROKER_URL, tmp_path, name="nightly-test") as (worker,):
        yield worker.log


def send_nightly_run(day):
    """Queue the beat entry point on the worker's broker, as beat would."""
    send_task(start_nightly_run, BROKER_URL, day_iso=day.isoformat())


# Like the other worker tests: serialized_rollback restores what migrations seed, and the flush after it leaves the
# content types alone, so a later serialized_rollback test can restore them.
@pytest.mark.worker
@pytest.mark.slow
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_nightly_chain_runs_end_to_end_on_a_real_worker(computed_kpis, celery_worker):
    build_night()

    send_nightly_run(NIGHT)
    wait_for(lambda: observation_values() == EXPECTED_NIGHT, timeout=CHAIN_TIMEOUT, what=f"the night's observations\n{celery_worker.read_text()}")

    first = list(Observation.objects.order_by("pk").values_list("pk", "kpi", "company", "incident", "observed_at", "value", "source", "run"))
    assert {row[-1] for row in first} == {nightly_run_id(NIGHT)}
    first_written = Observation.objects.aggregate(last=Max("computed_at"))["last"]

    send_nightly_run(NIGHT)  # a re-run, as after a worker was killed mid-run
    wait_for(
        lambda: Observation.objects.aggregate(first=Min("computed_at"))["first"] > first_written,
        timeout=CHAIN_TIMEOUT,
        what=f"the re-run\n{celery_worker.read_text()}",
    )
    assert list(Observation.objects.order_by("pk").values_list("pk", "kpi", "company", "incident", "observed_at", "value", "source", "run")) == first
