"""
An auditor downloads the audit export from the API and from the admin: the same bytes as `kpi audit-export`, streamed;
nobody else gets it.
"""
import io

import pytest
from django.core.management import call_command
from django.test import Client

from kpis import roles, services
from scoring.weights import approve_weights_proposal, propose_weights
from tests.helpers import client_for, member_of
from tests.kpis.factories import KpiDefinitionFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def audited(db):
    """A definition changed by proposal and approval, with a reason that starts like a formula, and new weights."""
    owner, approver = member_of(roles.KPI_OWNERS, "alice"), member_of(roles.KPI_APPROVERS, "bob")
    kpi = KpiDefinitionFactory(slug="mttr", target=30, critical_threshold=60, owner=owner)
    proposal = services.propose_change(kpi, actor=owner, reason="=HYPERLINK(\"x\") tighter", target=25).proposal
    services.approve_proposal(proposal, approver=approver, comment="Agreed, with a comma")
    weights = propose_weights(actor=owner, reason="Security matters more", reliability=20, security=30, product_adoption=20, financials=15, efficiency=15)
    approve_weights_proposal(weights, approver=approver, comment="Yes")


def command_output(*args):
    out = io.StringIO()
    call_command("kpi", "audit-export", *args, stdout=out)
    return out.getvalue().encode()


def body(response):
    return b"".join(response.streaming_content)


@pytest.mark.parametrize(
    ("query", "args"),
    [
        ("since=2000-01-01", ["--since", "2000-01-01"]),
        ("since=2000-01-01&format=csv", ["--since", "2000-01-01", "--format", "csv"]),
        ("since=2000-01-01&format=json", ["--since", "2000-01-01", "--format", "json"]),
        ("since=2000-01-01&until=2001-01-01&format=json", ["--since", "2000-01-01", "--until", "2001-01-01", "--format", "json"]),
        ("since=2000-01-01&until=2001-01-01", ["--since", "2000-01-01", "--until", "2001-01-01"]),
    ],
)
def test_the_apis_export_is_the_commands_byte_for_byte(audited, query, args):
    response = client_for(member_of(roles.AUDITORS)).get(f"/api/audit-export/?{query}")
    assert response.status_code == 200
    assert response.streaming
    exported = body(response)
    assert exported == command_output(*args)
    assert exported.count(b"\n") >= (1 if "until" in query else 8)


def test_the_export_names_its_file_and_type(audited):
    client = client_for(member_of(roles.AUDITORS))
    csv_response = client.get("/api/audit-export?since=2024-01-01&until=2024-01-31")
    assert csv_response["Content-Type"] == "text/csv"
    assert csv_response["Content-Disposition"] == 'attachment; filename="audit-export-2024-01-01-2024-01-31.csv"'
    json_response = client.get("/api/audit-export/?since=2024-01-01&format=json")
    assert json_response["Content-Type"] == "application/json"
    assert json_response["Content-Disposition"] == 'attachment; filename="audit-export-2024-01-01.json"'


def test_a_superuser_gets_it_too(audited, superuser):
    assert client_for(superuser).get("/api/audit-export/?since=2000-01-01").status_code == 200


@pytest.mark.parametrize("role", [roles.EXECUTIVES, roles.STAKEHOLDERS, roles.RESPONDERS, roles.KPI_OWNERS, roles.KPI_APPROVERS, roles.DATA_SOURCES])
def test_everyone_else_is_refused(audited, role):
    response = client_for(member_of(role)).get("/api/audit-export/?since=2000-01-01")
    assert response.status_code == 403
    assert response.json()["error"]["status"] == 403


@pytest.mark.parametrize(
    ("query", "fields"),
    [
        ("", {"since": ["Give the first day of the period, e.g. 2024-01-01."]}),
        ("since=yesterday", {"since": ["'yesterday' is not a date (YYYY-MM-DD)."]}),
        ("since=2024-02-01&until=2024-01-01", {"until": ["until must not be before since."]}),
        ("since=2024-02-01&until=2024-01-01&format=csv", {"until": ["until must not be before since."]}),
    ],
)
def test_a_bad_period_is_a_400_naming_the_parameter(audited, query, fields):
    response = client_for(member_of(roles.AUDITORS)).get(f"/api/audit-export/?{query}")
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == fields


def test_an_auditor_downloads_the_same_export_from_the_admin(audited):
    browser = Client()
    browser.force_login(member_of(roles.AUDITORS, "audrey"))
    listing = browser.get("/admin/scoring/dimensionweights/")
    assert b"/admin/scoring/dimensionweights/audit-export/" in listing.content
    form = browser.get("/admin/scoring/dimensionweights/audit-export/")
    assert form.status_code == 200
    assert b"Download" in form.content
    for format in ("csv", "json"):
        download = browser.get("/admin/scoring/dimensionweights/audit-export/", {"since": "2000-01-01", "until": "", "format": format})
        assert download.status_code == 200
        assert download["Content-Disposition"] == f'attachment; filename="audit-export-2000-01-01.{format}"'
        assert body(download) == command_output("--since", "2000-01-01", "--format", format)
    refused = browser.get("/admin/scoring/dimensionweights/audit-export/", {"since": "2024-02-30", "format": "csv"})
    assert refused.status_code == 200
    assert b"is not a date" in refused.content


def test_the_admin_download_is_refused_to_an_owner(audited):
    browser = Client()
    browser.force_login(member_of(roles.KPI_OWNERS, "olive"))
    assert browser.get("/admin/scoring/dimensionweights/audit-export/").status_code == 403
