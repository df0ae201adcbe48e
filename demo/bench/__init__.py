"""
`make bench`: the nightly work and the API on a large demo data set in a separate PostgreSQL database.

    python -m demo.bench [--scale xl|full|small] [--database-url postgres://.../companyos_bench] [--api-port N]

Drops and recreates the benchmark database, seeds it with `seed_demo` and the connectors' demo history
(`seed_demo_sources`), then times each step and prints one table: seconds, rows per second, and the process's
peak memory after the step. Each row is also printed as soon as it is measured, so a long run shows its progress. Correlation and each calculator with an entry in FLOOR_ROWS_SQL (floors.py) are also
done by one hand-written PostgreSQL statement that produces and stores the same rows (the floor), with the ratio
ours / floor and a note when the floor's row count differs from ours. The scale's goals (config.TARGETS) follow
the table, each with its measurement, met or missed, and for a missed one its cause where the bench can tell;
they are reported, never asserted.

Modules: config (scales, targets), databases (drop, create, copy), floors (the floor statements), steps (seeding,
correlation, backfills, snapshots and one night in this process), workers (the same nightly work on worker
processes), api (read latency and the ingest rates of alerts and observations against gunicorn), report (the
table and the goals), __main__ (the command).
"""
