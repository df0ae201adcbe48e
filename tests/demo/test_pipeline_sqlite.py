"""`make run`'s default is embedded: the whole demo pipeline must work on SQLite with eager Celery."""
import json

import pytest

from tests.helpers import sqlite_manage

pytestmark = pytest.mark.slow  # the whole demo pipeline through manage.py on SQLite

SUMMARY = """
import json
from scoring.models import ScoreSnapshot
from kpis.models import Observation
from connectors.models import SourceEvent
company = ScoreSnapshot.objects.filter(level="company").order_by("day")
sources = {}
for slug, source in Observation.objects.values_list("kpi__slug", "source").distinct():
    sources.setdefault(slug, set()).add(source)
print(json.dumps({
    "days": sorted({str(day) for day in company.values_list("day", flat=True)}),
    "without_composite": company.filter(composite__isnull=True).count(),
    "computed_slugs": sorted(set(Observation.objects.filter(source="backfill").values_list("kpi__slug", flat=True))),
    "dimensions": sorted(company.last().coverage["counted"]),
    "connector_kpis": {
        name: sorted(slug for slug in dimension["counted"] if sources.get(slug, set()) - {"demo"})
        for name, dimension in company.last().dimensions.items()
    },
    "event_sources": sorted(set(SourceEvent.objects.values_list("source", flat=True))),
}))
"""


def test_the_demo_pipeline_runs_on_sqlite(tmp_path):
    manage = sqlite_manage(tmp_path, timeout=600)
    manage("migrate", "--no-input")
    loaded = manage("load_demo", "--companies", "1", "--days", "7", "--incidents", "80", "--alerts", "600")
    # Development settings: the demo logins are printed, once (tests/demo/test_demo_logins.py logs in with them).
    assert "Demo logins for development, shown once" in loaded and "acme-data-source" in loaded
    summary = json.loads(manage("shell", "--no-imports", "-c", SUMMARY))
    assert len(summary["days"]) == 7
    assert summary["without_composite"] == 0
    assert {"mttr", "mtta", "noise-reduction", "self-healed", "patch-compliance"} <= set(summary["computed_slugs"])
    assert summary["dimensions"] == ["efficiency", "financials", "product_adoption", "reliability", "security"]
    # Every dimension is scored on KPIs that connectors fed, not only on seeded observations.
    assert all(summary["connector_kpis"][name] for name in summary["dimensions"]), summary["connector_kpis"]
    assert summary["event_sources"] == [
        "active-users-csv", "billing-csv", "cloud-cost-csv", "feature-flags-csv", "github", "gitleaks",
        "pagerduty", "prometheus", "snyk", "ssm-patch-states", "trivy",
    ]
    # Loading again (a second `make run`) changes nothing and does not fail.
    assert "Demo logins" not in manage("load_demo", "--companies", "1", "--days", "7", "--incidents", "80", "--alerts", "600")
    assert json.loads(manage("shell", "--no-imports", "-c", SUMMARY)) == summary
