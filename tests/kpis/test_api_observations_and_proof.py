import csv
import datetime
import io

import pytest
from django.contrib.auth.models import Permission

from incidents.models import Alert, Incident, PatchComplianceSnapshot, RunbookExecution
from kpis import roles
from kpis.models import Observation
from tests.companyos.factories import UserFactory
from tests.helpers import client_for, member_of
from tests.kpis.factories import KpiDefinitionFactory
from tests.tenancy.factories import CompanyFactory, DomainFactory, ServiceFactory

DAY_START = datetime.datetime(2024, 1, 15, tzinfo=datetime.timezone.utc)


def data_source():
    user = UserFactory(is_staff=False)
    user.user_permissions.add(Permission.objects.get(codename="add_observation"))
    return client_for(user)


@pytest.fixture
def acme(db):
    company = CompanyFactory(slug="comp-acme")
    ServiceFactory(slug="gateway", domain=DomainFactory(company=company, slug="api-gateway"))
    return company


@pytest.fixture
def slo(db):
    return KpiDefinitionFactory(slug="slo-attainment", units="percent", direction="higher", target=99.9, critical_threshold=99.5)


def observation(**fields):
    return {"kpi": "slo-attainment", "company": "comp-acme", "observed_at": "2024-01-15T00:00:00Z", "value": 99.95, **fields}


class TestPostingObservations:
    def test_a_list_is_stored_with_its_scope(self, acme, slo):
        rows = [observation(), observation(domain="api-gateway", service="gateway", value=99.2)]
        response = data_source().post("/api/observations/", rows, format="json")
        assert response.status_code == 201, response.json()
        assert response.json() == {"created": 2}
        stored = Observation.objects.order_by("value").values_list("value", "service__slug", "source")
        assert list(stored) == [(99.2, "gateway", "api"), (99.95, None, "api")]

    def test_an_unknown_slug_is_a_400_naming_it_and_nothing_is_stored(self, acme, slo):
        response = data_source().post("/api/observations/", [observation(), observation(kpi="happiness")], format="json")
        assert response.status_code == 400
        assert "'happiness'" in response.json()["error"]["message"]
        assert not Observation.objects.exists()

    def test_an_existing_key_is_a_409_naming_it(self, acme, slo):
        client = data_source()
        client.post("/api/observations/", observation(), format="json")
        response = client.post("/api/observations/", [observation(observed_at="2024-01-16T00:00:00Z"), observation()], format="json")
        assert response.status_code == 409
        assert "'slo-attainment'" in response.json()["error"]["message"]
        assert "comp-acme" in response.json()["error"]["message"]
        assert Observation.objects.count() == 1

    def test_a_percent_outside_0_to_100_is_refused(self, acme, slo):
        response = data_source().post("/api/observations/", observation(value=101), format="json")
        assert response.status_code == 400
        assert response.json()["error"]["message"].startswith("value:")

    def test_an_unknown_service_is_refused_naming_it(self, acme, slo):
        response = data_source().post("/api/observations/", [observation(service="nope")], format="json")
        assert response.status_code == 400
        assert response.json()["error"]["message"] == "[0].service: 'comp-acme' has no service 'nope'."

    def test_a_missing_or_misspelt_field_is_refused_naming_the_row(self, acme, slo):
        missing = observation()
        del missing["value"]
        response = data_source().post("/api/observations/", [observation(), missing], format="json")
        assert response.json()["error"]["message"] == "[1].value: This field is required."

        response = data_source().post("/api/observations/", [observation(valeu=3)], format="json")
        assert response.status_code == 400
        assert response.json()["error"]["message"].startswith("[0].valeu: Unknown field")
        assert not Observation.objects.exists()

    def test_more_than_ten_thousand_rows_are_refused(self, acme, slo):
        response = data_source().post("/api/observations/", [observation()] * 10_001, format="json")
        assert response.status_code == 400
        assert "10000" in response.json()["error"]["message"]


@pytest.fixture
def seed_example(acme):
    """The methodology's worked example: 1000 alerts -> 350 incidents, 89 self-healed at 8 min, the rest at 45."""
    for slug, target in (("noise-reduction", 40), ("mttr-reduction", 30), ("self-healed", None), ("patch-compliance", 95)):
        KpiDefinitionFactory(
            slug=slug, units="percent", direction="higher", target=target,
            critical_threshold=None if target is None else 0, dimension="none", weight=0,
        )
    incidents = Incident.objects.bulk_create(
        Incident(
            company=acme, external_id=f"alert-{number}", title="disk_full on web", severity="P3", status="resolved",
            detected_at=DAY_START + datetime.timedelta(minutes=number),
            resolved_at=DAY_START + datetime.timedelta(minutes=number + (8 if number < 89 else 45)),
            automation_used=number < 89, runbook_id="SSM-DiskCleanup-001" if number < 89 else "",
            correlation_key=f"web-{number}|disk_full",
        )
        for number in range(350)
    )
    Alert.objects.bulk_create(
        Alert(company=acme, asset="web", signature="disk_full", severity="high", source="cloudwatch",
              issued_at=DAY_START + datetime.timedelta(minutes=number % 350), incident=incidents[number % 350])
        for number in range(1000)
    )
    runbooks = [("SSM-DiskCleanup-001", 45), ("SSM-ServiceRestart-002", 32), ("SSM-LogRotation-003", 12)]
    RunbookExecution.objects.bulk_create(
        RunbookExecution(company=acme, runbook_id=runbook, execution_id=f"{runbook}-{number}",
                         started_at=DAY_START + datetime.timedelta(hours=2), success=True)
        for runbook, count in runbooks for number in range(count)
    )
    PatchComplianceSnapshot.objects.create(
        company=acme, scanned_at=DAY_START + datetime.timedelta(hours=22), total_instances=48,
        compliant_instances=42, non_compliant_instances=6, critical_patches_missing=8,
    )
    return acme


class TestKpiMetrics:
    URL = "/api/metrics/kpis/?company_id=comp-acme&timeRange=24h&until=2024-01-16T00:00:00Z"

    def test_the_payload_matches_the_methodology_example(self, seed_example):
        payload = client_for(member_of(roles.EXECUTIVES)).get(self.URL).json()
        assert payload["company_id"] == "comp-acme"
        assert payload["measurement_period"] == {
            "start": "2024-01-15T00:00:00+00:00", "end": "2024-01-16T00:00:00+00:00", "range": "24h",
        }
        kpis = payload["kpis"]
        noise = dict(kpis["noise_reduction"])
        noise.pop("correlation_config")
        assert noise == {"value": 65.0, "raw_alerts": 1000, "incidents_created": 350, "target": 40, "status": "on_target"}
        assert kpis["mttr_reduction"] == {
            "value": 82.2, "manual_mttr_minutes": 45.0, "automated_mttr_minutes": 8.0,
            "manual_median_minutes": 45.0, "automated_median_minutes": 8.0,
            "sample_size": {"manual": 261, "automated": 89}, "target": 30, "status": "on_target",
        }
        assert kpis["self_healed"] == {
            "value": 25.4, "automated_incidents": 89, "total_incidents": 350,
            "runbooks_used": [
                {"id": "SSM-DiskCleanup-001", "executions": 45},
                {"id": "SSM-ServiceRestart-002", "executions": 32},
                {"id": "SSM-LogRotation-003", "executions": 12},
            ],
            "runbook_table": kpis["self_healed"]["runbook_table"],
            "total_time_saved_minutes": kpis["self_healed"]["total_time_saved_minutes"],
        }
        patch = kpis["patch_compliance"]
        assert (patch["compliance_pct"], patch["compliant_instances"], patch["total_instances"]) == (87.5, 42, 48)
        assert (patch["critical_patches_missing"], patch["age_of_results"]) == (8, "2 hours")
        assert {"data_sources", "generated_at"} <= payload.keys()

    def test_the_csv_lists_the_alerts_and_incidents_counted(self, seed_example):
        response = client_for(member_of(roles.EXECUTIVES)).get(self.URL + "&format=csv")
        assert response.status_code == 200
        assert response["Content-Type"].startswith("text/csv")
        rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
        assert sum(row["record"] == "alert" for row in rows) == 1000
        assert sum(row["record"] == "incident" for row in rows) == 350

    def test_an_unknown_company_is_a_404_and_an_unknown_time_range_a_400(self, seed_example):
        client = client_for(member_of(roles.EXECUTIVES))
        unknown = client.get("/api/metrics/kpis/?company_id=comp-nowhere")
        assert unknown.status_code == 404
        assert unknown.json()["error"]["message"] == "company_id: No company has the slug 'comp-nowhere'."
        bad_range = client.get("/api/metrics/kpis/?company_id=comp-acme&timeRange=1y")
        assert bad_range.status_code == 400
        assert bad_range.json()["error"]["message"].startswith("timeRange:")
