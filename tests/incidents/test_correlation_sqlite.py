"""Alerts are stored with their incidents on SQLite too (`make run`'s default): ids taken up front, the same groups."""
import json

import pytest

from tests.helpers import sqlite_manage

pytestmark = pytest.mark.slow  # migrates an SQLite database through manage.py

SCRIPT = """
import datetime, json
from incidents.ingestion import ingest_alerts
from incidents.models import Alert, Incident
from incidents.services import correlate_alerts
from tenancy.models import Company

start = datetime.datetime(2024, 1, 15, 10, tzinfo=datetime.timezone.utc)
acme = Company.objects.create(slug="comp-acme", name="Acme")

def alert(minute, asset="web-1"):
    return Alert(company=acme, asset=asset, signature="disk_full", severity="high", source="cloudwatch",
                 issued_at=start + datetime.timedelta(minutes=minute), external_id=f"{asset}-{minute}")

ingest_alerts([alert(0), alert(5)])
ingest_alerts([alert(30), alert(35)])
loaded = Alert.objects.create(**{field: getattr(alert(90, "db-1"), field) for field in ("company", "asset", "signature", "severity", "source", "issued_at", "external_id")})
ingest_alerts([alert(18), alert(18), alert(100, "db-1")])  # bridges the two incidents; a re-sent alert; next to the loaded one
correlate_alerts(company=acme)
print(json.dumps({
    "alert_ids": list(Alert.objects.order_by("pk").values_list("external_id", flat=True)),
    "incidents": sorted(
        [incident.external_id, sorted(incident.alerts.values_list("external_id", flat=True))]
        for incident in Incident.objects.all()
    ),
    "merged": Incident.all_objects.filter(merged_into__isnull=False).count(),
    "first_ids": {
        incident.external_id: f"alert-{incident.alerts.order_by('issued_at').first().pk}" for incident in Incident.objects.all()
    },
}))
"""


def test_alerts_are_stored_with_their_incidents_on_sqlite(tmp_path):
    manage = sqlite_manage(tmp_path)
    manage("migrate", "--no-input")

    result = json.loads(manage("shell", "--no-imports", "-c", SCRIPT))

    assert result["alert_ids"] == ["web-1-0", "web-1-5", "web-1-30", "web-1-35", "db-1-90", "web-1-18", "db-1-100"]
    assert sorted(alerts for _, alerts in result["incidents"]) == [
        ["db-1-100", "db-1-90"], ["web-1-0", "web-1-18", "web-1-30", "web-1-35", "web-1-5"]
    ]
    assert result["merged"] == 1
    # Each incident is named by its first alert, whose id was taken before it was stored.
    assert all(external_id == first for external_id, first in result["first_ids"].items())
