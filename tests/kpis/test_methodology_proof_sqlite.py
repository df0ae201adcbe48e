"""The methodology's proof (runbook table, medians, patch compliance) comes out the same on SQLite (`make run`) as on PostgreSQL."""
import json

import pytest

from tests.helpers import sqlite_manage
from tests.kpis.helpers import methodology_proof_example

pytestmark = pytest.mark.slow  # migrations and the proof through manage.py on SQLite

SQLITE_SCRIPT = "from tests.kpis.helpers import methodology_proof_example; print(methodology_proof_example())"


def test_the_proof_is_the_same_on_sqlite(db, tmp_path):
    on_postgresql = json.loads(methodology_proof_example())
    manage = sqlite_manage(tmp_path)
    manage("migrate", "--no-input")
    on_sqlite = json.loads(manage("shell", "--no-imports", "-c", SQLITE_SCRIPT))

    assert on_postgresql["self_healed"]["total_time_saved_minutes"] == 3065.0
    assert (on_postgresql["mttr_reduction"]["manual_median_minutes"], on_postgresql["patch_compliance"]["compliance_pct"]) == (45.0, 87.5)
    assert on_sqlite == on_postgresql
