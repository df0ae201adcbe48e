"""The Reports page and /api/reports/: a company's reports to download and asking for one, scoped like everything else."""
import datetime

import pytest

from kpis import roles
from reports.choices import Audience
from reports.models import Report
from reports.services import on_demand_report
from tests.helpers import client_for, member_of
from tests.reports.helpers import today
from tests.tenancy.factories import CompanyFactory
from tenancy.models import Membership


@pytest.fixture
def reports(scored, printed, executive, auditor):
    """An exec report and an internal one of comp-acme."""
    return {
        "exec": on_demand_report(scored["company"], scored["period"], requested_by=executive),
        "internal": on_demand_report(scored["company"], scored["period"], requested_by=auditor),
    }


def test_the_api_lists_the_reports_an_executive_may_read_with_their_downloads(reports, executive):
    response = client_for(executive).get("/api/reports/", {"company": "comp-acme"})
    assert response.status_code == 200
    rows = response.json()["results"]
    assert [row["id"] for row in rows] == [reports["exec"].pk]
    assert rows[0]["audience"] == Audience.EXEC and rows[0]["requested_by"] == "erin"
    pdf = client_for(executive).get(rows[0]["pdf_url"])
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    html = client_for(executive).get(rows[0]["html_url"])
    assert html.status_code == 200 and "Acme" in html.content.decode()
    # The stored page runs and loads nothing, even opened from the portal.
    assert "default-src 'none'" in html["Content-Security-Policy"] and "sandbox" in html["Content-Security-Policy"]


def test_an_internal_report_does_not_exist_for_an_executive(reports, executive, auditor):
    internal = reports["internal"].pk
    assert client_for(executive).get(f"/api/reports/{internal}/").status_code == 404
    assert client_for(executive).get(f"/api/reports/{internal}/pdf/").status_code == 404
    assert client_for(auditor).get(f"/api/reports/{internal}/pdf/").status_code == 200


@pytest.mark.separate_tenants
def test_another_companys_reports_answer_like_missing_ones(scored, printed, executive):
    globex = CompanyFactory(slug="comp-globex")
    Membership.objects.create(user=executive, company=globex)
    theirs = on_demand_report(scored["company"], scored["period"], requested_by=member_of(roles.AUDITORS))
    client = client_for(executive)
    assert client.get("/api/reports/").json()["results"] == []
    assert client.get(f"/api/reports/{theirs.pk}/").status_code == 404
    assert client.get(f"/api/reports/{theirs.pk}/html/").status_code == 404
    assert client.get("/api/reports/", {"company": "comp-acme"}).status_code == 404
    response = client.post("/api/reports/", {"company": "comp-acme", "month": "2026-11"}, format="json")
    assert response.status_code == 400 and list(response.json()["error"]["fields"]) == ["company"]
    assert Report.objects.count() == 1


def test_asking_the_api_for_a_report_builds_it(scored, printed, executive):
    response = client_for(executive).post("/api/reports/", {"company": "comp-acme", "start": str(scored["period"].start),
                                                            "end": str(scored["period"].end)}, format="json")
    assert response.status_code == 202
    assert response.json()["status"] == "queued"
    report = Report.objects.get()  # eager in the suite: built by the time the answer comes
    assert (report.requested_by, report.period_start, report.audience) == (executive, scored["period"].start, Audience.EXEC)


@pytest.mark.parametrize("body, field", [
    ({"company": "comp-acme", "start": "2025-01-01", "end": "2026-01-02"}, "start"),
    ({"company": "comp-acme", "start": "2026-02-01", "end": "2026-01-01"}, "start"),
    ({"company": "comp-acme", "month": "2026-13"}, "month"),
    ({"company": "comp-acme", "month": "2026-11", "start": "2026-11-01"}, "month"),
    ({"company": "comp-acme", "start": "2026-11-01"}, "end"),
    ({"company": "comp-acme", "month": "2026-11", "colour": "red"}, "colour"),
    ({"month": "2026-11"}, "company"),
])
def test_a_bad_request_for_a_report_is_a_400_naming_the_field(scored, printed, executive, body, field):
    response = client_for(executive).post("/api/reports/", body, format="json")
    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]
    assert not Report.objects.exists()


def test_the_reports_page_lists_downloads_and_is_in_the_cockpits_navigation(client, reports, executive):
    client.force_login(executive)
    response = client.get("/cockpit/reports/", {"company": "comp-acme"})
    html = response.content.decode()
    assert response.status_code == 200
    assert f'/cockpit/reports/{reports["exec"].pk}/report.pdf' in html
    assert f'/cockpit/reports/{reports["internal"].pk}/' not in html
    assert 'href="/cockpit/reports/">Reports</a>' in client.get("/cockpit/").content.decode()
    download = client.get(f'/cockpit/reports/{reports["exec"].pk}/report.pdf')
    assert download.status_code == 200 and download["Content-Disposition"].startswith("attachment;")
    assert client.get(f'/cockpit/reports/{reports["internal"].pk}/report.html').status_code == 404


def test_the_reports_page_builds_a_report_for_the_period_asked(client, scored, printed, executive):
    client.force_login(executive)
    start, end = today() - datetime.timedelta(days=6), today()
    response = client.post("/cockpit/reports/?company=comp-acme", {"start": start, "end": end}, follow=True)
    assert response.status_code == 200
    assert "is being built" in response.content.decode()
    report = Report.objects.get()
    assert (report.period_start, report.period_end, report.requested_by) == (start, end, executive)
    too_long = client.post("/cockpit/reports/?company=comp-acme", {"start": end - datetime.timedelta(days=400), "end": end})
    assert too_long.status_code == 400 and "at most a year" in too_long.content.decode()


def test_the_reports_page_needs_a_login_and_a_role(client, scored):
    assert client.get("/cockpit/reports/").status_code == 302
    client.force_login(member_of("Nobody"))
    assert client.get("/cockpit/reports/").status_code == 403
