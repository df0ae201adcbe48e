"""What the bench seeds at each scale, and the goals its table reports against."""

SCALES = {
    "xl": {"companies": 30, "incidents": 1_000_000, "alerts": 10_000_000, "days": 90},
    "full": {"companies": 3, "incidents": 100_000, "alerts": 1_000_000, "days": 90},
    "small": {"companies": 3, "incidents": 1_000, "alerts": 10_000, "days": 14},
}

# Each goal: what it measures, its unit, and whether the measurement is to be at least ("min") or at most ("max")
# the target.
GOALS = {
    "alerts_per_second": ("alerts ingested and correlated through the API", "alerts/s", "min"),
    "one_night_seconds": ("one night (nightly chain, eager)", "s", "max"),
    "recompute_seconds": ("recompute every KPI and snapshot of the period", "s", "max"),
    "nightly_seconds": ("nightly work on the worker processes", "s", "max"),
    "floor_ratio": ("every step against its SQL floor (worst)", "x", "max"),
    "scorecard_p95_ms": ("GET /api/scorecards/exec/ p95", "ms", "max"),
    "metrics_p95_ms": ("GET /api/metrics/kpis/ p95, 30d and 90d (worst)", "ms", "max"),
    "ingest_rows_per_second": ("POST /api/observations/, 2 senders", "rows/s", "min"),
    "peak_memory_mb": ("peak memory of the bench process", "MB", "max"),
}
# The bench process's peak memory at SCALE=small (2026-12-06, DEBUG off); "flat" is at most a quarter more at any scale.
SMALL_PEAK_MB = 117
TARGETS = {
    "full": {"nightly_seconds": 60, "floor_ratio": 1.5, "scorecard_p95_ms": 50, "ingest_rows_per_second": 50_000},
    "xl": {
        "alerts_per_second": 20_000,
        "one_night_seconds": 10,
        "recompute_seconds": 5 * 60,
        "floor_ratio": 1.5,
        "scorecard_p95_ms": 20,
        "metrics_p95_ms": 50,
        "ingest_rows_per_second": 100_000,
        "peak_memory_mb": round(SMALL_PEAK_MB * 1.25),
    },
}
TARGETS["small"] = TARGETS["full"]  # small shows that every step runs; its numbers are read against full's goals
