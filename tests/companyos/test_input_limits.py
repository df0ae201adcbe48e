"""
What a data source sends that the API refuses, and how: a 4xx in the one error shape naming the field, never a 500,
and nothing stored. Nesting depth, body size, types, dates, the order of an incident's and a run's times, booleans
where numbers belong and fields nobody reads.
"""
import json

import pytest
from django.contrib.auth.models import Permission

from connectors.signatures import sign_github
from incidents.models import Alert, Incident, RunbookExecution
from kpis.models import KpiDefinition, Observation
from tests.companyos.factories import UserFactory
from tests.connectors.factories import IntegrationFactory
from tests.helpers import FIXTURES_DIR, client_for
from tests.kpis.factories import KpiDefinitionFactory
from tests.tenancy.factories import CompanyFactory, DomainFactory, ServiceFactory

WRITES = [
    "add_alert", "add_incident", "add_runbookexecution", "add_observation", "add_phasetransition",
    "add_milestone", "add_surveyresponse", "add_vulnerability",
]


@pytest.fixture
def acme(db):
    company = CompanyFactory(slug="comp-acme")
    ServiceFactory(slug="web", domain=DomainFactory(company=company, slug="frontend"))
    KpiDefinitionFactory(slug="slo-attainment", units="percent")
    return company


@pytest.fixture
def source(acme):
    """A data source's API client, allowed every ingest write."""
    user = UserFactory(is_staff=False)
    user.user_permissions.add(*Permission.objects.filter(codename__in=WRITES))
    return client_for(user)


def refused(response, status=400):
    """The error of a refused request, after checking it has the API's one shape."""
    assert response.status_code == status, response.content[:300]
    error = response.json()["error"]
    assert set(error) == {"status", "code", "message", "fields"} and error["status"] == status
    return error


def alert(**fields):
    return {
        "company": "comp-acme", "asset": "web-1", "signature": "disk_full", "severity": "high",
        "issued_at": "2024-01-15T10:00:00Z", "source": "cloudwatch", "external_id": "cw-1", **fields,
    }


def incident(**fields):
    return {"company": "comp-acme", "external_id": "PD-1", "title": "Checkout down", "severity": "P1",
            "detected_at": "2024-01-15T10:00:00Z", **fields}


def run(**fields):
    return {"company": "comp-acme", "runbook_id": "SSM-1", "execution_id": "exec-1", "started_at": "2024-01-15T10:00:00Z",
            "success": True, **fields}


def observation(**fields):
    return {"kpi": "slo-attainment", "company": "comp-acme", "observed_at": "2024-01-15T00:00:00Z", "value": 99.5, **fields}


def alertmanager(**fields):
    return {**json.loads((FIXTURES_DIR / "alertmanager_v4_firing.json").read_text()), **fields}


def nested(depth):
    return "[" * depth + "]" * depth


class TestNesting:
    @pytest.mark.parametrize("path", ["/api/observations/", "/api/alerts/", "/api/incidents/", "/api/webhooks/alertmanager/"])
    @pytest.mark.parametrize("depth", [33, 100_000])
    def test_json_nested_past_the_limit_is_a_400_naming_the_body(self, source, path, depth):
        error = refused(source.post(path, nested(depth), content_type="application/json"))
        assert error["message"] == "body: JSON nested deeper than 32 levels is refused."

    def test_an_alert_payload_nested_to_the_limit_is_stored(self, source):
        payload = json.loads(nested(29))  # in the payload object, in the row, in the list: 32 levels
        assert source.post("/api/alerts/", [alert(payload={"deep": payload})], format="json").status_code == 201

    @pytest.mark.parametrize("depth", [33, 100_000])
    def test_a_signed_webhook_nested_past_the_limit_is_a_400(self, client, acme, depth):
        integration = IntegrationFactory(company=acme)
        body = ('{"deep": ' + nested(depth) + "}").encode()
        response = client.post(
            f"/api/webhooks/github/{integration.pk}/", body, content_type="application/json",
            HTTP_X_GITHUB_EVENT="push", HTTP_X_GITHUB_DELIVERY="d-1", HTTP_X_HUB_SIGNATURE_256=sign_github(integration.secret, body),
        )
        assert refused(response)["message"] == "body: JSON nested deeper than 32 levels is refused."

    @pytest.mark.parametrize("depth", [33, 100_000])
    def test_a_scanner_report_nested_past_the_limit_is_a_400(self, source, depth):
        response = source.post("/api/scans/trivy/?company=comp-acme&service=web", nested(depth), content_type="application/json")
        assert refused(response)["fields"] == {"body": ["JSON nested deeper than 32 levels is refused."]}


class TestBodySize:
    def test_a_batch_of_ten_thousand_alerts_of_four_megabytes_is_stored(self, source):
        batch = [alert(external_id=f"cw-{n}", asset=f"web-{n}-" + "a" * 150, signature="s" * 150) for n in range(10_000)]
        body = json.dumps(batch)
        assert len(body) > 4_000_000

        response = source.post("/api/alerts/", body, content_type="application/json")

        assert response.status_code == 201, response.content[:300]
        assert response.json() == {"received": 10_000, "created": 10_000}

    def test_a_body_past_the_limit_is_a_413_in_the_error_shape(self, source):
        body = json.dumps([alert(external_id=f"cw-{n}", payload={"padding": "x" * 3000}) for n in range(7_000)])

        error = refused(source.post("/api/alerts/", body, content_type="application/json"), status=413)

        assert error["fields"] == {"body": ["Larger than 20 MB; split the batch (at most 10,000 rows per request)."]}
        assert not Alert.objects.exists()


class TestAlertmanagerTypes:
    @pytest.mark.parametrize("change, field", [
        ({"commonLabels": "x"}, "commonLabels"),
        ({"alerts": "x"}, "alerts"),
        ({"alerts": [1]}, "alerts[0].non_field_errors"),
        ({"alerts": [{"labels": "x", "startsAt": "2024-01-15T10:00:00Z"}]}, "alerts[0].labels"),
        ({"alerts": [{"labels": {"alertname": {"a": 1}}, "startsAt": "2024-01-15T10:00:00Z"}]}, "alerts[0].labels.alertname"),
        ({"alerts": [{"labels": {"alertname": "x"}, "annotations": ["x"], "startsAt": "2024-01-15T10:00:00Z"}]},
         "alerts[0].annotations"),
        ({"alerts": [{"labels": {"alertname": "x"}, "startsAt": 5}]}, "alerts[0].startsAt"),
        ({"alerts": [{"labels": {"alertname": "x"}, "startsAt": None}]}, "alerts[0].startsAt"),
    ])
    def test_a_wrong_type_is_a_400_naming_its_place(self, source, change, field):
        error = refused(source.post("/api/webhooks/alertmanager/?company=comp-acme", alertmanager(**change), format="json"))
        assert field in error["fields"], error
        assert not Alert.objects.exists()

    def test_the_firing_alerts_zero_end_time_is_accepted(self, source):
        # Alertmanager sends endsAt 0001-01-01T00:00:00Z until an alert resolves; it is not read.
        assert source.post("/api/webhooks/alertmanager/", alertmanager(), format="json").status_code == 200


class TestDates:
    @pytest.mark.parametrize("issued_at, message", [
        ("0001-01-01T00:00:00+01:00", "0001-01-01T00:00:00+01:00 is outside the supported years 2000-2100 (UTC)."),
        ("9999-12-31T23:59:59Z", "9999-12-31T23:59:59+00:00 is outside the supported years 2000-2100 (UTC)."),
        ("1999-12-31T23:59:59Z", "1999-12-31T23:59:59+00:00 is outside the supported years 2000-2100 (UTC)."),
        ("2026-02-30T10:00:00Z", "Datetime has wrong format. Use one of these formats instead: YYYY-MM-DDThh:mm[:ss[.uuuuuu]][+HH:MM|-HH:MM|Z]."),
        ("2024-01-15T10:00:00", "Give the time with its UTC offset, e.g. 2024-01-15T10:00:00Z; a time without one is not guessed."),
    ])
    def test_an_alert_time_outside_the_years_impossible_or_without_offset_is_refused(self, source, issued_at, message):
        error = refused(source.post("/api/alerts/", [alert(issued_at=issued_at)], format="json"))
        assert error["fields"] == {"[0].issued_at": [message]}

    def test_an_observation_without_offset_or_in_year_9999_is_refused_naming_its_row(self, source):
        rows = [observation(), observation(observed_at="2024-01-15T00:00:00"), observation(observed_at="9999-01-01T00:00:00Z")]
        error = refused(source.post("/api/observations/", rows, format="json"))
        assert sorted(error["fields"]) == ["[1].observed_at", "[2].observed_at"]
        assert not Observation.objects.exists()

    def test_the_first_and_last_moments_of_the_supported_years_are_accepted(self, source):
        rows = [observation(observed_at="2000-01-01T00:00:00Z"), observation(observed_at="2100-12-31T23:59:59Z")]
        assert source.post("/api/observations/", rows, format="json").status_code == 201


class TestOrder:
    @pytest.mark.parametrize("field", ["acknowledged_at", "resolved_at"])
    def test_an_incident_acknowledged_or_resolved_before_it_was_detected_is_refused(self, source, field):
        error = refused(source.post("/api/incidents/", incident(**{field: "2024-01-15T09:59:59Z"}), format="json"))
        assert error["message"] == f"{field}: 2024-01-15T09:59:59+00:00 is before detected_at (2024-01-15T10:00:00+00:00)."
        assert not Incident.objects.exists()

    def test_an_incident_acknowledged_when_detected_is_stored(self, source):
        response = source.post("/api/incidents/", incident(acknowledged_at="2024-01-15T10:00:00Z"), format="json")
        assert response.status_code == 201

    def test_a_run_finished_before_it_started_is_refused(self, source):
        error = refused(source.post("/api/runbook-executions/", run(finished_at="2024-01-15T09:00:00+00:00"), format="json"))
        assert error["fields"] == {"finished_at": ["2024-01-15T09:00:00+00:00 is before started_at (2024-01-15T10:00:00+00:00)."]}
        assert not RunbookExecution.objects.exists()


class TestTypesAndFields:
    @pytest.mark.parametrize("value", [True, False])
    def test_a_boolean_is_not_a_number(self, source, value):
        error = refused(source.post("/api/observations/", [observation(value=value)], format="json"))
        assert error["fields"] == {"[0].value": ["A number is required, not true or false."]}

    def test_an_alert_with_a_field_nobody_reads_is_refused_naming_it(self, source):
        error = refused(source.post("/api/alerts/", [alert(severty="critical")], format="json"))
        assert error["message"].startswith("[0].severty: Unknown field; the fields are company, service, asset,")
        assert not Alert.objects.exists()

    @pytest.mark.parametrize("path, body", [
        ("/api/incidents/", incident(priority="P1")),
        ("/api/runbook-executions/", run(duration=5)),
    ])
    def test_incidents_and_runs_refuse_unknown_fields(self, source, path, body):
        field = (body.keys() - incident().keys() - run().keys()).pop()
        assert field in refused(source.post(path, body, format="json"))["fields"]

    def test_a_timeline_entry_refuses_unknown_fields_and_times_without_offset(self, source, acme):
        created = source.post("/api/incidents/", incident(), format="json").json()
        url = f"/api/incidents/{created['id']}/phases/"
        error = refused(source.post(url, {"phase": "gather", "entered_at": "2024-01-15T10:00:00", "by": "x"}, format="json"))
        assert sorted(error["fields"]) == ["by", "entered_at"]

    def test_a_kpi_patch_of_its_owner_is_refused_and_changes_nothing(self, acme, superuser):
        kpi = KpiDefinition.objects.get(slug="slo-attainment")
        owner_before = kpi.owner_id
        response = client_for(superuser).patch(
            "/api/kpis/slo-attainment/", {"owner": "mallory", "change_reason": "Take it over"}, format="json"
        )
        error = refused(response)
        assert error["message"].startswith("owner: Not a field a change of a definition sets; those are name, description,")
        assert KpiDefinition.objects.get(pk=kpi.pk).owner_id == owner_before
