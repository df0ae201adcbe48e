"""
The API as the seed documents write it: paths without a trailing slash (`GET /kpis`, `GET /incidents/:id/kpis`,
`/api/metrics/kpis?company_id=...&timeRange=...`) answer as with it, and a period is any `<n>h`/`<n>d` time range
up to 366 days, or a start and end.
"""
import datetime

import pytest
from rest_framework.test import APIClient

from kpis import roles
from tests.helpers import client_for, member_of
from tests.incidents.factories import AlertFactory, IncidentFactory
from tests.kpis.factories import KpiDefinitionFactory, ObservationFactory
from tests.tenancy.factories import CompanyFactory

END = "2024-01-16T00:00:00Z"
PERSONAS = [roles.EXECUTIVES, roles.STAKEHOLDERS, roles.RESPONDERS, roles.KPI_OWNERS, roles.KPI_APPROVERS, roles.AUDITORS]


@pytest.fixture
def acme(db):
    company = CompanyFactory(slug="comp-acme")
    kpi = KpiDefinitionFactory(slug="mttr", visibility="exec")
    KpiDefinitionFactory(slug="noise-reduction", visibility="exec", target=40)
    incident = IncidentFactory(company=company, service=None)
    ObservationFactory(kpi=kpi, company=company, incident=incident, value=42)
    for hour in range(30):
        AlertFactory(company=company, issued_at=datetime.datetime(2024, 1, 14, 18, tzinfo=datetime.timezone.utc) + datetime.timedelta(hours=hour))
    return incident


@pytest.mark.parametrize("role", PERSONAS)
def test_every_persona_reads_the_seeds_paths_without_a_trailing_slash(acme, role):
    client = client_for(member_of(role))
    for path in ("/api/kpis", f"/api/incidents/{acme.pk}/kpis", f"/api/metrics/kpis?company_id=comp-acme&timeRange=12h&until={END}"):
        without, with_slash = client.get(path), client.get(path.replace("?", "/?") if "?" in path else path + "/")
        assert without.status_code == 200, (path, without.content[:300])
        assert same_answer(without.json(), with_slash.json())
    assert [kpi["slug"] for kpi in client.get("/api/kpis").json()["results"]] == ["mttr", "noise-reduction"]
    assert [row["value"] for row in client.get(f"/api/incidents/{acme.pk}/kpis").json()] == [42]


def same_answer(one, other):
    """Equal, but for the moment a payload was generated at."""
    if isinstance(one, dict):
        one, other = ({key: value for key, value in body.items() if key != "generated_at"} for body in (one, other))
    return one == other


def test_a_data_source_posts_to_a_path_without_its_slash(acme):
    KpiDefinitionFactory(slug="abac-coverage", units="percent")
    feed = member_of(roles.DATA_SOURCES)
    response = client_for(feed).post(
        "/api/observations",
        {"kpi": "abac-coverage", "company": "comp-acme", "observed_at": END, "value": 97.5},
        format="json",
    )
    assert response.status_code == 201, response.content
    assert response.json() == {"created": 1}


def test_a_path_that_names_nothing_either_way_is_the_apis_404(acme):
    client = client_for(member_of(roles.EXECUTIVES))
    for path in ("/api/nothing-here", "/api/nothing-here/", "/api/kpis/mttr/nothing"):
        response = client.get(path)
        assert response.status_code == 404
        assert response.json()["error"]["message"] == f"No API endpoint at {path}."


def test_an_anonymous_caller_without_the_slash_is_refused_like_with_it(acme):
    assert APIClient().get("/api/kpis").status_code == 401


def test_the_schema_lists_each_path_once_with_its_slash(acme):
    client = APIClient()
    client.force_authenticate(member_of(roles.AUDITORS))
    paths = client.get("/api/schema/", {"format": "json"}).json()["paths"]
    assert "/api/kpis/" in paths and "/api/metrics/kpis/" in paths and "/api/incidents/{incident_id}/kpis/" in paths
    assert not [path for path in paths if not path.endswith("/")]


def metrics(client, query):
    return client.get(f"/api/metrics/kpis?company_id=comp-acme&{query}")


@pytest.mark.parametrize(
    ("query", "start", "label"),
    [
        (f"timeRange=12h&until={END}", "2024-01-15T12:00:00+00:00", "12h"),
        (f"timeRange=1h&end={END}", "2024-01-15T23:00:00+00:00", "1h"),
        (f"timeRange=45d&until={END}", "2023-12-02T00:00:00+00:00", "45d"),
        (f"timeRange=366d&until={END}", "2023-01-15T00:00:00+00:00", "366d"),
        (f"until={END}", "2024-01-15T00:00:00+00:00", "24h"),
    ],
)
def test_any_time_range_in_hours_or_days_up_to_366_days(acme, query, start, label):
    payload = metrics(client_for(member_of(roles.EXECUTIVES)), query).json()
    assert payload["measurement_period"] == {"start": start, "end": "2024-01-16T00:00:00+00:00", "range": label}


def test_a_start_and_end_name_the_period_instead(acme):
    client = client_for(member_of(roles.EXECUTIVES))
    by_dates = metrics(client, "start=2024-01-15&end=2024-01-15").json()
    # An end date includes its day.
    assert by_dates["measurement_period"]["start"] == "2024-01-15T00:00:00+00:00"
    assert by_dates["measurement_period"]["end"] == "2024-01-16T00:00:00+00:00"
    assert by_dates["kpis"]["noise_reduction"]["raw_alerts"] == 24
    by_times = metrics(client, "start=2024-01-15T06:00:00Z&end=2024-01-15T12:00:00%2B01:00").json()
    assert by_times["measurement_period"]["range"] == "2024-01-15T06:00:00+00:00/2024-01-15T12:00:00+01:00"
    assert by_times["kpis"]["noise_reduction"]["raw_alerts"] == 5
    csv = metrics(client, "start=2024-01-15&end=2024-01-15&format=csv")
    assert csv.status_code == 200
    assert csv["Content-Disposition"] == 'attachment; filename="comp-acme-kpi-evidence-20240115T000000Z-20240116T000000Z.csv"'


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ("timeRange=400d", "timeRange", "'400d' is longer than the longest time range, 366d (8784h)."),
        ("timeRange=8785h", "timeRange", "'8785h' is longer than the longest time range, 366d (8784h)."),
        ("timeRange=0h", "timeRange", "'0h' is an empty time range: give at least 1h."),
        ("timeRange=1y", "timeRange", "'1y' is not a time range: give hours or days as <n>h or <n>d, e.g. 12h or 30d."),
        ("timeRange=-5d", "timeRange", "'-5d' is not a time range: give hours or days as <n>h or <n>d, e.g. 12h or 30d."),
        ("timeRange=7d&start=2024-01-01", "timeRange", "Give timeRange or start (with end), not both."),
        ("start=2024-01-10&end=2024-01-05", "start", "2024-01-10T00:00:00+00:00 is not before the end, 2024-01-06T00:00:00+00:00."),
        ("start=2022-01-01&end=2024-01-01", "start", "From start to end is longer than the longest period, 366 days."),
        ("start=yesterday", "start", "'yesterday' is not an ISO 8601 time, e.g. 2024-01-15T10:00:00Z."),
        ("start=2024-02-30", "start", "'2024-02-30' is not a date: day is out of range for month."),
        ("end=2024-01-15T10:00:00", "end", "'2024-01-15T10:00:00' has no UTC offset; give one, e.g. 2024-01-15T10:00:00Z."),
        ("end=2024-01-15&until=2024-01-15", "end", "Give end or until (the same thing), not both."),
    ],
)
def test_a_period_out_of_bounds_is_a_400_naming_the_parameter(acme, query, field, message):
    response = metrics(client_for(member_of(roles.EXECUTIVES)), query)
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {field: [message]}
    assert response.json()["error"]["message"] == f"{field}: {message}"
    assert metrics(client_for(member_of(roles.EXECUTIVES)), query + "&format=csv").status_code == 400
