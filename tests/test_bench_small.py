"""`make bench SCALE=small` keeps working: every step runs and the table is printed."""
import subprocess
import sys

import psycopg
import pytest

from tests.workers import PROJECT_DIR

BENCH_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/companyos_bench_test"
STEPS = (
    "seed",
    "correlate all alerts",
    "backfill mttr",
    "snapshots, every scope and day",
    "nightly chain, one day (eager)",
    "GET /api/scorecards/exec/",
    "GET /api/kpis/",
    "GET /api/metrics/kpis/",
    "POST /api/observations/",
)


@pytest.fixture
def bench_database():
    yield BENCH_DATABASE_URL
    with psycopg.connect("postgres://postgres@127.0.0.1:5432/postgres", autocommit=True) as server:
        server.execute('DROP DATABASE IF EXISTS "companyos_bench_test" WITH (FORCE)')


def test_the_small_bench_runs_every_step_and_prints_its_table_in_under_two_minutes(bench_database):
    completed = subprocess.run(
        [sys.executable, "-m", "companyos.bench", "--scale", "small", "--database-url", bench_database],
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert completed.returncode == 0, completed.stderr
    lines = completed.stdout.splitlines()
    for step in STEPS:
        assert any(line.startswith(step) for line in lines), f"no row for {step}\n{completed.stdout}"
    assert "ours/floor" in completed.stdout
    assert "Targets missed:" in completed.stdout or "Every target met." in completed.stdout
