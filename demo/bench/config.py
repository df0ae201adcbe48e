"""What the bench seeds at each scale, and the targets its table reports against."""

SCALES = {
    "full": {"companies": 3, "incidents": 100_000, "alerts": 1_000_000, "days": 90},
    "small": {"companies": 3, "incidents": 1_000, "alerts": 10_000, "days": 14},
}
TARGETS = {"nightly_seconds": 60, "floor_ratio": 1.5, "scorecard_p95_ms": 50, "ingest_rows_per_second": 50_000}
