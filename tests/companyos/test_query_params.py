"""
Dates and slugs in query parameters, on the API and on every cockpit page: an impossible date, a year outside
2000-2100, a time without offset or a NUL character is refused naming the parameter (the API in its error shape,
the cockpit with its not-found page), never a 500; the evidence CSV refuses before it starts streaming.
"""
import datetime

import pytest

from scoring.services import compute_snapshots
from tests.helpers import client_for
from tests.kpis.factories import KpiDefinitionFactory, ObservationFactory
from tests.tenancy.factories import ServiceFactory

DAY = datetime.date(2024, 1, 15)


@pytest.fixture
def scored(db):
    """comp-acme (domain api, service gateway) with one exec KPI scored on DAY."""
    service = ServiceFactory(slug="gateway", domain__slug="api", domain__company__slug="comp-acme")
    kpi = KpiDefinitionFactory(slug="slo-attainment", units="percent", direction="higher", target=99.9,
                               critical_threshold=99.5, dimension="reliability", weight=30)
    ObservationFactory(kpi=kpi, company=service.domain.company, value=99.7,
                       observed_at=datetime.datetime(2024, 1, 15, 6, tzinfo=datetime.timezone.utc))
    compute_snapshots(DAY)
    return service


@pytest.mark.parametrize("url, field, message", [
    ("/api/scorecards/exec/?company=comp-acme&date=2026-02-30", "date", "'2026-02-30' is not a date: day is out of range for month."),
    ("/api/scores/?company=comp-acme&until=2026-02-30", "until", "'2026-02-30' is not a date: day is out of range for month."),
    ("/api/scores/?company=comp-acme&since=0001-01-01", "since", "0001-01-01 is outside the supported years 2000-2100."),
    ("/api/scores/?company=comp-acme&until=9999-12-31", "until", "9999-12-31 is outside the supported years 2000-2100."),
    ("/api/source-events/?since=0001-01-01T00:00:00%2B01:00", "since",
     "0001-01-01T00:00:00+01:00 is outside the supported years 2000-2100 (UTC)."),
    ("/api/kpis/slo-attainment/observations/?until=9999-12-31T23:00:00-05:00", "until",
     "9999-12-31T23:00:00-05:00 is outside the supported years 2000-2100 (UTC)."),
    ("/api/kpis/slo-attainment/observations/?since=2024-01-15T00:00:00", "since",
     "'2024-01-15T00:00:00' has no UTC offset; give one, e.g. 2024-01-15T10:00:00Z."),
    ("/api/metrics/kpis/?company_id=comp-acme&until=0001-01-01T00:00:00%2B01:00", "until",
     "0001-01-01T00:00:00+01:00 is outside the supported years 2000-2100 (UTC)."),
    ("/api/scorecards/exec/?company=comp-acme&scope=api%00", "scope", "'comp-acme' has no domain or service 'api\\x00'."),
])
def test_the_api_refuses_a_bad_parameter_naming_it(scored, superuser, url, field, message):
    response = client_for(superuser).get(url)

    assert response.status_code == 400, response.content[:300]
    assert response.json()["error"]["fields"] == {field: [message]}


@pytest.mark.parametrize("until", ["9999-12-31T23:00:00Z", "2026-02-30T00:00:00Z", "2024-01-16T00:00:00"])
def test_the_evidence_csv_refuses_a_bad_end_as_json_before_streaming(scored, superuser, until):
    response = client_for(superuser).get("/api/metrics/kpis/", {"company_id": "comp-acme", "until": until, "format": "csv"})

    assert response.status_code == 400
    assert not response.streaming
    assert list(response.json()["error"]["fields"]) == ["until"]


def test_a_scan_time_outside_the_years_is_refused_naming_it(scored, superuser):
    response = client_for(superuser).post(
        "/api/scans/trivy/?company=comp-acme&service=gateway&scanned_at=0001-01-01T00:00:00%2B01:00",
        b'{"SchemaVersion": 2, "Results": []}', content_type="application/json",
    )

    assert response.status_code == 400
    assert response.json()["error"]["message"].startswith("scanned_at: 0001-01-01T00:00:00+01:00 is outside")


def test_good_dates_are_still_answered(scored, superuser):
    api = client_for(superuser)
    assert api.get("/api/scorecards/exec/?company=comp-acme&date=2024-01-15").status_code == 200
    assert api.get("/api/scores/?company=comp-acme&since=2024-01-01&until=2024-01-31").status_code == 200


@pytest.mark.parametrize("path, name, message", [
    ("/cockpit/?company=comp-acme&day=2026-02-30", "day", "'2026-02-30' is not a date: day is out of range for month."),
    ("/cockpit/?company=comp-acme&day=9999-12-31", "day", "9999-12-31 is outside the supported years 2000-2100."),
    ("/cockpit/dimensions/reliability/?company=comp-acme&day=0001-01-01", "day", "0001-01-01 is outside the supported years"),
    ("/cockpit/kpi/slo-attainment/?company=comp-acme&day=2024-02-30", "day", "'2024-02-30' is not a date"),
    ("/cockpit/incidents/?company=comp-acme&since=2024-01-01&until=9999-12-31", "until", "9999-12-31 is outside"),
    ("/cockpit/incidents/?company=comp-acme&since=2023-02-29&until=2024-01-31", "since", "'2023-02-29' is not a date"),
    ("/cockpit/?company=comp%00acme", "company", "no company has the slug"),
    ("/cockpit/?company=comp-acme&scope=api%00", "scope", "'comp-acme' has no domain or service"),
])
def test_every_cockpit_page_answers_a_bad_parameter_with_its_not_found_page(scored, superuser, client, path, name, message):
    client.force_login(superuser)

    response = client.get(path)

    assert response.status_code == 404
    assert f"{name}: " in response.content.decode() and message.replace("'", "&#x27;") in response.content.decode()


def test_a_cockpit_page_of_a_good_day_is_shown(scored, superuser, client):
    client.force_login(superuser)
    assert client.get("/cockpit/?company=comp-acme&day=2024-01-15").status_code == 200
