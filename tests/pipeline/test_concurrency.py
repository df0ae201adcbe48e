"""Concurrent writers: observations posted while a backfill of the same KPI runs (refused), and two nightly runs at once."""
import threading
from io import StringIO

import pytest
from django.contrib.auth.models import Permission
from django.core.management import call_command
from django.db import connection

from kpis.models import Observation
from pipeline.tasks import start_nightly_run
from tests.companyos.factories import UserFactory
from tests.helpers import SINCE, UNTIL, build_sample_data, client_for
from tests.pipeline.helpers import (
    BROKER_URL,
    RUN_TIMEOUT,
    SNAPSHOTS_OF_THE_NIGHT,
    backend_waiting_for_a_lock,
    build_two_companies,
    forget_night,
    night_outcome,
    observation_key_held,
    wait_for_the_run_to_finish,
)
from tests.workers import running_workers, send_task, wait_for, wait_until_idle

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

KPI = "p1-incident-count"  # computed at company level, in runs of days: one transaction per run


def backfill_rows():
    """The backfill's own rows of KPI: (observed_at, value)."""
    return list(Observation.objects.filter(kpi__slug=KPI, source="backfill").order_by("observed_at").values_list("observed_at", "value"))


def backfill_in_a_thread():
    def backfill():
        try:
            call_command("kpi", "backfill", "--kpi", KPI, "--since", SINCE, "--until", UNTIL, stdout=StringIO())
        finally:
            connection.close()

    thread = threading.Thread(target=backfill)
    thread.start()
    return thread


def posted(observed_at, value):
    return {"kpi": KPI, "company": "comp-acme", "observed_at": observed_at, "value": value}


def test_observations_posted_during_a_backfill_of_the_same_kpi_are_refused_and_the_backfill_is_exact(computed_kpis, monkeypatch):
    # Runs of one day, so that the days before the held one are committed when the backfill waits for it (with
    # longer runs a post on the run's days waits for its commit, then gets the same answers).
    monkeypatch.setattr("kpis.calculators.registry.DAYS_PER_STATEMENT", 1)
    build_sample_data()
    call_command("kpi", "backfill", "--kpi", KPI, "--since", SINCE, "--until", UNTIL, stdout=StringIO())
    uninterrupted = backfill_rows()
    held_day = Observation.objects.filter(kpi__slug=KPI).order_by("observed_at").values(
        "kpi_id", "company_id", "domain_id", "service_id", "incident_id", "observed_at"
    )[5]  # the backfill pauses there, its first five days committed
    Observation.objects.filter(kpi__slug=KPI).delete()
    user = UserFactory(is_staff=False)
    user.user_permissions.add(Permission.objects.get(codename="add_observation"))
    api = client_for(user)

    with observation_key_held(held_day):
        backfill = backfill_in_a_thread()
        wait_for(lambda: backend_waiting_for_a_lock() is not None, timeout=RUN_TIMEOUT, what="the backfill to reach the held day")
        # A day the backfill already wrote, a day it has yet to write, and a time it never writes: a computed KPI
        # takes no observations, whatever the backfill is doing.
        answers = [
            api.post("/api/observations/", posted(observed_at, value), format="json")
            for observed_at, value in (("2024-01-11T00:00:00Z", 5), ("2024-01-18T00:00:00Z", 6), ("2024-01-16T12:00:00Z", 7))
        ]
    backfill.join(timeout=RUN_TIMEOUT)

    assert not backfill.is_alive()
    assert [answer.status_code for answer in answers] == [400, 400, 400]
    assert all(answer.json()["error"]["message"].startswith(f"kpi: '{KPI}' is computed") for answer in answers)
    assert not Observation.objects.filter(kpi__slug=KPI, source="api").exists()
    assert backfill_rows() == uninterrupted


@pytest.mark.worker
@pytest.mark.slow
def test_two_nightly_runs_started_at_once_count_nothing_twice(computed_kpis, tmp_path):
    build_two_companies()
    start_nightly_run.delay("2024-01-12")  # eagerly, alone
    alone = night_outcome()
    forget_night()

    with running_workers(BROKER_URL, tmp_path, count=2, name="twice") as workers:
        send_task(start_nightly_run, BROKER_URL, day_iso="2024-01-12")
        send_task(start_nightly_run, BROKER_URL, day_iso="2024-01-12")
        wait_for_the_run_to_finish(workers, snapshots=SNAPSHOTS_OF_THE_NIGHT)
        wait_until_idle(BROKER_URL, timeout=RUN_TIMEOUT, what="both runs to finish", workers=workers)
        at_once = night_outcome()

    assert at_once == alone
    # comp-acme's three alerts within the window are one incident; comp-beta's two, 20 minutes apart, are two.
    assert len([row for row in at_once["incidents"] if row[0].startswith("alert-")]) == 3
