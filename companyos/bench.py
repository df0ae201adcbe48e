"""
`make bench`: the nightly work and the API on a large demo data set in a separate PostgreSQL database.

    python -m companyos.bench [--scale full|small] [--database-url postgres://.../companyos_bench]

Drops and recreates the benchmark database, seeds it with `seed_demo`, then times each step and prints one
table: seconds, rows per second, and the process's peak memory after the step. Correlation and the
calculators are also timed as one hand-written SQL statement on the same data (the floor), with the ratio
ours / floor. Targets are reported, never asserted; a missed one is printed as such.
"""
import argparse
import datetime
import os
import resource
import secrets
import statistics
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import requests

PROJECT_DIR = Path(__file__).resolve().parent.parent
SCALES = {
    "full": {"companies": 3, "incidents": 100_000, "alerts": 1_000_000, "days": 90},
    "small": {"companies": 3, "incidents": 1_000, "alerts": 10_000, "days": 14},
}
REQUESTS_PER_ENDPOINT = 200
INGEST_BATCH = 10_000
INGEST_BATCHES = {"full": 10, "small": 2}
TARGETS = {"nightly_seconds": 60, "floor_ratio": 1.5, "scorecard_p95_ms": 50, "ingest_rows_per_second": 50_000}

# Floors: the same result as our code, as one statement each, timed on the same data.
FLOOR_SQL = {
    # The number of session-window groups (incidents correlation creates): a new group where the gap to the
    # previous alert of the same asset|signature exceeds the company's window (default 15 minutes).
    "correlation": """
        SELECT count(*) FROM (
            SELECT issued_at - lag(issued_at) OVER (PARTITION BY company_id, asset, signature ORDER BY issued_at) AS gap
            FROM incidents_alert
        ) gaps WHERE gap IS NULL OR gap > interval '15 minutes'
    """,
    "mttr": """
        SELECT count(*), avg(extract(epoch FROM resolved_at - detected_at) / 60) FROM incidents_incident
        WHERE resolved_at IS NOT NULL
    """,
    "p1-incident-count": """
        SELECT count(*) FROM (
            SELECT d.day, i.company_id, count(*) FROM generate_series(%(since)s::date, %(until)s::date - 1, interval '1 day') d(day)
            JOIN incidents_incident i ON i.severity = 'P1' AND i.detected_at >= d.day - interval '29 days'
                 AND i.detected_at < d.day + interval '1 day'
            GROUP BY d.day, i.company_id
        ) counts
    """,
}


def peak_memory_mb():
    """The peak resident memory of this process so far (Linux reports kilobytes)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class Table:
    """The result rows, printed at the end as one table."""

    def __init__(self):
        self.rows = []
        self.misses = []

    def add(self, step, seconds, rows=None, floor=None, note=""):
        rate = f"{rows / seconds:,.0f}" if rows and seconds else ""
        ratio = f"{seconds / floor:.1f}x" if floor else ""
        if floor and seconds / floor > TARGETS["floor_ratio"]:
            self.misses.append(f"{step}: {seconds / floor:.1f}x its SQL floor (target {TARGETS['floor_ratio']}x)")
        self.rows.append((step, f"{seconds:.2f}", f"{rows:,}" if rows is not None else "", rate, f"{peak_memory_mb():.0f}", ratio, note))

    def print(self, out=sys.stdout):
        header = ("step", "seconds", "rows", "rows/s", "peak MB", "ours/floor", "note")
        widths = [max(len(str(row[i])) for row in [header, *self.rows]) for i in range(len(header))]
        for row in [header, tuple("-" * width for width in widths), *self.rows]:
            out.write("  ".join(str(cell).ljust(width) for cell, width in zip(row, widths)).rstrip() + "\n")
        out.write("\nTargets missed:\n" if self.misses else "\nEvery target met.\n")
        for miss in self.misses:
            out.write(f"  - {miss}\n")


def timed(function, *args, **kwargs):
    start = time.perf_counter()
    result = function(*args, **kwargs)
    return time.perf_counter() - start, result


def recreate_database(url):
    """Drop and create the benchmark database named by `url` (through the server's `postgres` database)."""
    info = psycopg.conninfo.conninfo_to_dict(url)
    name = info.pop("dbname")
    if not name.startswith("companyos_bench"):
        raise SystemExit(f"--database-url: refusing to drop '{name}'; the benchmark database's name starts with companyos_bench.")
    with psycopg.connect(**info, dbname="postgres", autocommit=True) as server:
        server.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        server.execute(f'CREATE DATABASE "{name}"')


def floor_seconds(name, params=None):
    from django.db import connection

    with connection.cursor() as cursor:
        seconds, _ = timed(cursor.execute, FLOOR_SQL[name], params or {})
    return seconds


def run_steps(scale, table):
    """Seed, correlate, backfill, score and run one night in this process, timing each step."""
    from django.core.management import call_command
    from django.db import connection

    from incidents.demo import demo_period, seed_demo
    from incidents.models import Alert, Incident
    from incidents.services import correlate_alerts
    from kpis.calculators import CALCULATORS
    from kpis.choices import ObservationSource
    from kpis.observations import compute_observations
    from kpis.tasks.nightly import start_nightly_run
    from scoring.models import ScoreSnapshot
    from scoring.services import compute_snapshots

    size = SCALES[scale]
    call_command("migrate", "--no-input", verbosity=0)
    call_command("kpi", "load-catalogue", stdout=open(os.devnull, "w"))
    seconds, _ = timed(seed_demo, **size)
    table.add("seed", seconds, Alert.objects.count() + Incident.objects.count())
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")

    seconds, created = timed(correlate_alerts)
    table.add("correlate all alerts", seconds, size["alerts"], floor=floor_seconds("correlation"), note=f"{created:,} incidents")

    work_seconds = seconds
    since, until = (moment.date() for moment in demo_period(size["days"]))
    for slug in sorted(CALCULATORS):
        seconds, result = timed(compute_observations, slug, since=since, until=until, source=ObservationSource.BACKFILL, run="bench")
        floor = floor_seconds(slug, {"since": since, "until": until}) if slug in FLOOR_SQL else None
        table.add(f"backfill {slug}", seconds, result.written, floor=floor, note="" if floor else "no floor statement")
        work_seconds += seconds

    day, last = since, until - datetime.timedelta(days=1)
    start = time.perf_counter()
    while day <= last:
        compute_snapshots(day)
        day += datetime.timedelta(days=1)
    seconds = time.perf_counter() - start
    table.add("snapshots, every scope and day", seconds, ScoreSnapshot.objects.count())
    work_seconds += seconds

    seconds, _ = timed(start_nightly_run.delay, last.isoformat())
    table.add("nightly chain, one day (eager)", seconds)
    work_seconds += seconds
    if work_seconds > TARGETS["nightly_seconds"]:
        table.misses.append(f"correlation, backfill, snapshots and one night took {work_seconds:.0f} s (target {TARGETS['nightly_seconds']} s)")
    return work_seconds


def api_steps(scale, table, database_url, port=8765):
    """Latency of the read endpoints and the ingest rate, against gunicorn on the benchmark database."""
    from rest_framework.authtoken.models import Token

    from django.contrib.auth import get_user_model
    from incidents.models import Company
    from kpis.calculators import CALCULATORS
    from kpis.models import KpiDefinition

    user, _ = get_user_model().objects.get_or_create(username="bench", defaults={"is_superuser": True, "is_staff": True})
    token, _ = Token.objects.get_or_create(user=user)
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "companyos.settings.local",
        "DEBUG": "0",
        "DATABASE_URL": database_url,
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "CELERY_BROKER_URL": "",
    }
    server = subprocess.Popen(
        [str(Path(sys.executable).with_name("gunicorn")), "companyos.wsgi", "--workers", "2", "--bind", f"127.0.0.1:{port}", "--log-level", "warning"],
        cwd=PROJECT_DIR,
        env=env,
    )
    base = f"http://127.0.0.1:{port}"
    session = requests.Session()
    session.headers["Authorization"] = f"Token {token.key}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                session.get(f"{base}/api/kpis/", timeout=5)
                break
            except requests.ConnectionError:
                if time.monotonic() > deadline:
                    raise SystemExit("gunicorn did not start within 30 s.")
                time.sleep(0.2)
        company = Company.objects.order_by("slug").first()
        slug = KpiDefinition.objects.filter(observations__isnull=False).values_list("slug", flat=True).first()
        for path in (
            f"/api/scorecards/exec/?company={company.slug}",
            "/api/kpis/",
            f"/api/kpis/{slug}/observations/",
            f"/api/metrics/kpis/?company_id={company.slug}&timeRange=30d",
        ):
            latencies = []
            for _ in range(REQUESTS_PER_ENDPOINT):
                seconds, response = timed(session.get, base + path, timeout=30)
                response.raise_for_status()
                latencies.append(seconds * 1000)
            p50, p95, p99 = (statistics.quantiles(latencies, n=100)[index] for index in (49, 94, 98))
            note = f"p50 {p50:.1f} ms, p95 {p95:.1f} ms, p99 {p99:.1f} ms"
            if path.startswith("/api/scorecards/") and p95 > TARGETS["scorecard_p95_ms"]:
                table.misses.append(f"scorecard p95 {p95:.1f} ms (target {TARGETS['scorecard_p95_ms']} ms)")
            table.add(f"GET {path.split('?')[0]}", sum(latencies) / 1000, REQUESTS_PER_ENDPOINT, note=note)

        # A measured (not computed) KPI, at times no other observation uses; 50 is valid in every unit.
        measured = KpiDefinition.objects.exclude(slug__in=CALCULATORS).order_by("slug").values_list("slug", flat=True).first()
        ingested, start = 0, time.perf_counter()
        base_time = datetime.datetime(2000, 1, 1, tzinfo=datetime.timezone.utc)
        for batch in range(INGEST_BATCHES[scale]):
            rows = [
                {"kpi": measured, "company": company.slug, "observed_at": (base_time + datetime.timedelta(minutes=batch * INGEST_BATCH + n)).isoformat(), "value": 50.0}
                for n in range(INGEST_BATCH)
            ]
            response = session.post(f"{base}/api/observations/", json=rows, timeout=300)
            if response.status_code != 201:
                raise SystemExit(f"POST /api/observations/ answered {response.status_code}: {response.text[:500]}")
            ingested += len(rows)
        seconds = time.perf_counter() - start
        if ingested / seconds < TARGETS["ingest_rows_per_second"]:
            table.misses.append(f"ingest {ingested / seconds:,.0f} observations/s (target {TARGETS['ingest_rows_per_second']:,})")
        table.add("POST /api/observations/", seconds, ingested)
    finally:
        server.terminate()
        server.wait(timeout=30)


def main(argv=None):
    parser = argparse.ArgumentParser(description="Benchmark the nightly work and the API on a large demo data set.")
    parser.add_argument("--scale", choices=sorted(SCALES), default="full")
    parser.add_argument(
        "--database-url",
        default=os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/companyos_bench"),
        help="The benchmark database; dropped and recreated (its name must start with companyos_bench).",
    )
    options = parser.parse_args(argv)
    recreate_database(options.database_url)
    os.environ["DATABASE_URL"] = options.database_url
    os.environ["DJANGO_SETTINGS_MODULE"] = "companyos.settings.local"
    os.environ["CELERY_BROKER_URL"] = ""  # the one-day nightly chain runs eagerly, in this process
    os.environ.setdefault("LOG_LEVEL", "WARNING")  # the table, not a line per eager task
    import django

    django.setup()
    table = Table()
    work_seconds = run_steps(options.scale, table)
    api_steps(options.scale, table, options.database_url)
    print(f"CompanyOS bench, scale {options.scale}: {SCALES[options.scale]}\n")
    table.print()
    print(f"\nCorrelation, backfill, snapshots and one night together: {work_seconds:.1f} s.")


if __name__ == "__main__":
    main()
