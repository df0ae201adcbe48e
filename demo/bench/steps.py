"""The bench's steps in this process: seeding, correlation, every backfill, snapshots and one night, each timed."""
import datetime
import os
import time

from .config import SCALES
from .databases import recreate_database
from .floors import CORRELATION_FLOOR_SQL, FLOOR_ROWS_SQL, FLOOR_UPSERT_SQL
from .report import timed


def run_floor(sql, params, tables):
    """
    Time the floor statement `sql` in a transaction that is rolled back; return its seconds and the rows it
    produced (what it selects, or else the rows it wrote). Then vacuum `tables`, so our step after it meets
    no dead rows of the floor's.
    """
    from django.db import connection, transaction

    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        seconds, _ = timed(cursor.execute, sql, params)
        rows = cursor.fetchone()[0] if cursor.description else cursor.rowcount
        transaction.set_rollback(True)
    with connection.cursor() as cursor:
        cursor.execute(f"VACUUM {', '.join(tables)}")
    return seconds, rows


def floor_note(ours, floor, what="rows"):
    """A note when the floor did not produce what ours did."""
    return "" if ours == floor else f"the floor made {floor:,} {what}, ours {ours:,}"


def run_steps(scale, table, workers_url):
    """
    Seed, correlate, backfill, score and run one night in this process, timing each step. The seeded database is
    first copied to `workers_url`'s, where parallel_nightly_work does the same work on worker processes.
    """
    from django.core.management import call_command
    from django.db import connection

    from connectors.models import SourceEvent
    from demo.companies import company_identities
    from demo.incidents import seed_demo
    from demo.owners import assign_demo_owners
    from demo.period import demo_period
    from incidents.models import Alert, Incident
    from incidents.services import correlate_alerts
    from kpis.calculators import CALCULATORS
    from kpis.choices import ObservationSource
    from kpis.models import KpiDefinition
    from kpis.observations import compute_observations
    from pipeline.tasks import start_nightly_run
    from scoring.models import ScoreSnapshot
    from scoring.services import compute_snapshots

    size = SCALES[scale]
    call_command("migrate", "--no-input", verbosity=0)
    call_command("kpi", "load-catalogue", stdout=open(os.devnull, "w"))
    seconds, _ = timed(seed_demo, **size)
    table.add("seed", seconds, Alert.objects.count() + Incident.objects.count())
    # Owners, as `make run` gives them, so that every breach reaches someone.
    assign_demo_owners([slug for slug, _ in company_identities(size["companies"])])
    # The connectors' history of the same companies and days, through their own paths as `make run` loads it:
    # what the DORA, security, finance and product calculators read.
    seconds, _ = timed(
        call_command, "seed_demo_sources", companies=size["companies"], days=size["days"], stdout=open(os.devnull, "w")
    )
    table.add(
        "seed connector data", seconds, SourceEvent.objects.count(), note="webhook deliveries, uploads, Prometheus responses"
    )
    # Statistics, hint bits and visibility maps for the fresh rows, so that neither the floors nor ours pay for them.
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    connection.close()  # a template database may have no other session
    recreate_database(workers_url, template=connection.settings_dict["NAME"])

    floor, floor_incidents = run_floor(CORRELATION_FLOOR_SQL, {}, ["incidents_incident", "incidents_alert"])
    seconds, created = timed(correlate_alerts)
    note = floor_note(created, floor_incidents, "incidents") or f"{created:,} incidents"
    table.add("correlate all alerts", seconds, size["alerts"], floor=floor, note=note)
    # Correlating everything at once adds hundreds of thousands of incidents in a minute; autovacuum would analyse
    # them soon after, and the nightly run, which adds a day's, always meets current statistics.
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE incidents_incident, incidents_alert")

    work_seconds = seconds
    backfill_seconds = backfill_floors = backfill_rows = 0
    start, end = demo_period(size["days"])
    since, until = start.date(), end.date()
    for slug in sorted(CALCULATORS):
        floor, floor_rows = None, None
        if slug in FLOOR_ROWS_SQL:
            params = {"kpi": KpiDefinition.objects.get(slug=slug).pk, "since": start, "until": end, "source": ObservationSource.BACKFILL.value, "run": "bench-floor"}
            floor, floor_rows = run_floor(FLOOR_UPSERT_SQL.format(rows=FLOOR_ROWS_SQL[slug]), params, ["kpis_observation"])
        seconds, result = timed(compute_observations, slug, since=since, until=until, source=ObservationSource.BACKFILL, run="bench")
        note = floor_note(result.written, floor_rows) if floor else "no floor statement"
        table.add(f"backfill {slug}", seconds, result.written, floor=floor, note=note)
        backfill_seconds += seconds
        backfill_floors += floor or 0
        backfill_rows += result.written

    day, last = since, until - datetime.timedelta(days=1)
    start = time.perf_counter()
    while day <= last:
        compute_snapshots(day)
        day += datetime.timedelta(days=1)
    seconds = time.perf_counter() - start
    snapshots = ScoreSnapshot.objects.count()
    table.add("snapshots, every scope and day", seconds, snapshots)
    recompute = backfill_seconds + seconds
    table.add(
        f"recompute every KPI and snapshot, {size['days']} days", recompute, backfill_rows + snapshots,
        note=f"backfills {backfill_seconds:.1f} s (their floors {backfill_floors:.1f} s) + snapshots {seconds:.1f} s",
    )
    if backfill_floors > table.targets.get("recompute_seconds", float("inf")):
        cause = f"the backfills' SQL floors alone take {backfill_floors:.0f} s"
    else:
        cause = f"backfills {backfill_seconds:.0f} s ({backfill_seconds / backfill_floors:.1f}x their floors), snapshots {seconds:.0f} s"
    table.goal("recompute_seconds", recompute, cause)
    work_seconds += recompute

    seconds, _ = timed(start_nightly_run.delay, last.isoformat())
    table.add("nightly chain, one day (eager)", seconds)
    table.goal("one_night_seconds", seconds)
    work_seconds += seconds
    table.add("nightly work in one process", work_seconds, note="correlation + every backfill + snapshots + one night")

