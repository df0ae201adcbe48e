"""The DORA and security KPIs and the numbers behind them come out the same on SQLite (`make run`) as on PostgreSQL."""
import json

import pytest

from tests.delivery.helpers import SLUGS, build_history, results
from tests.helpers import sqlite_manage

pytestmark = pytest.mark.slow  # migrations and the calculators through manage.py on SQLite

SQLITE_SCRIPT = """
import json
from tests.delivery.helpers import build_history, results
build_history()
print(json.dumps(results()))
"""


def test_the_connectors_kpis_and_their_evidence_are_the_same_on_sqlite(computed_kpis, tmp_path):
    build_history()
    on_postgresql = results()
    manage = sqlite_manage(tmp_path)
    manage("migrate", "--no-input")
    manage("kpi", "load-catalogue")
    on_sqlite = json.loads(manage("shell", "--no-imports", "-c", SQLITE_SCRIPT))

    assert all(on_postgresql["values"][slug] for slug in SLUGS), on_postgresql["values"]
    assert on_postgresql["evidence"]["critical-cve-age comp-acme"]["oldest_critical_first_seen_at"] == "2024-01-06T07:00:00+00:00"
    assert on_sqlite == on_postgresql
