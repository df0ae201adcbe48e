"""`make bench SCALE=small` keeps working: every step runs, each floor makes what ours makes, and the table is printed."""
import os
import re
import subprocess
import sys

import psycopg
import pytest

from demo.bench.floors import FLOOR_ROWS_SQL
from kpis.calculators import CALCULATORS
from tests.workers import PROJECT_DIR

pytestmark = pytest.mark.slow  # the small bench

BENCH_DATABASE_NAME = "companyos_bench_test" + os.environ.get("TEST_DB_SUFFIX", "")
BENCH_DATABASE_URL = f"postgres://postgres@127.0.0.1:5432/{BENCH_DATABASE_NAME}"
STEPS = (
    "seed",
    "seed connector data",
    "correlate all alerts",
    *(f"backfill {slug}" for slug in CALCULATORS),
    "snapshots, every scope and day",
    "recompute every KPI and snapshot, 14 days",
    "nightly chain, one day (eager)",
    "nightly work in one process",
    "nightly work on 2 worker processes",
    "GET /api/scorecards/exec/",
    "GET /api/kpis/",
    "GET /api/metrics/kpis/ 30d",
    "GET /api/metrics/kpis/ 90d",
    "POST /api/alerts/ (stored and correlated)",
    "POST /api/observations/",
)
RATIO = re.compile(r"\s\d+\.\dx(\s|$)")
COLUMNS = re.compile(r"\s{2,}")


@pytest.fixture
def bench_database():
    yield BENCH_DATABASE_URL
    with psycopg.connect("postgres://postgres@127.0.0.1:5432/postgres", autocommit=True) as server:
        for database in (BENCH_DATABASE_NAME, f"{BENCH_DATABASE_NAME}_workers"):
            server.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


def test_the_small_bench_runs_every_step_against_its_floor_and_prints_its_table(bench_database):
    completed = subprocess.run(
        [sys.executable, "-m", "demo.bench", "--scale", "small", "--database-url", bench_database],
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        # A stuck run fails rather than hangs; how long it takes is the bench's to report, not the test's to judge
        # (about 90 s alone on 2 cores, more beside other work).
        timeout=900,
    )

    assert completed.returncode == 0, completed.stderr
    rows = {}
    for step in STEPS:
        rows[step] = next((line for line in completed.stdout.splitlines() if line.startswith(f"{step} ")), None)
        assert rows[step], f"no row for {step}\n{completed.stdout}"
    for slug in CALCULATORS:
        assert COLUMNS.split(rows[f"backfill {slug}"])[2] != "0", f"no data for {slug}\n{completed.stdout}"
    assert CALCULATORS.keys() <= FLOOR_ROWS_SQL.keys(), "every calculator has a floor statement"
    for step in ("correlate all alerts", *(f"backfill {slug}" for slug in CALCULATORS)):
        assert RATIO.search(rows[step]), f"no ours/floor ratio for {step}\n{completed.stdout}"
        assert "the floor made" not in rows[step], completed.stdout
    assert "the same observations and snapshots as in one process" in rows["nightly work on 2 worker processes"], completed.stdout
    assert "every alert correlated" in rows["POST /api/alerts/ (stored and correlated)"], completed.stdout
    assert re.search(r"^(\d+ of \d+ goals missed|Every goal met)\.$", completed.stdout, re.MULTILINE), completed.stdout
    assert "No hostname was supplied" not in completed.stdout + completed.stderr
