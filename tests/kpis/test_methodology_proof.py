"""
The methodology's proof through the API, as its reader checks it: the runbook table with time saved, the median
resolution times, patch compliance from per-instance states, and every total equal to the sum of its parts.
"""
import datetime

import pytest
from django.contrib.auth.models import Permission

from incidents.models import PatchComplianceSnapshot, RunbookExecution
from kpis import roles
from tests.helpers import client_for, member_of
from tests.kpis.factories import KpiDefinitionFactory
from tests.kpis.helpers import build_runbook_example
from tests.security.helpers import EXAMPLE_END, example_answer, patch_uploader, scan_answer, upload
from tests.tenancy.factories import CompanyFactory
from tenancy.models import Membership

DAY_START = EXAMPLE_END - datetime.timedelta(days=1)
PROOF = "/api/metrics/kpis/?company_id=comp-acme&timeRange=24h&until=2024-01-16T00:00:00Z"


@pytest.fixture
def methodology_kpis(db):
    for slug, target in (("noise-reduction", 40), ("mttr-reduction", 30), ("self-healed", None), ("patch-compliance", 95)):
        KpiDefinitionFactory(
            slug=slug, units="percent", direction="higher", target=target,
            critical_threshold=None if target is None else 0, dimension="none", weight=0,
        )


@pytest.fixture
def acme(methodology_kpis):
    return CompanyFactory(slug="comp-acme")


@pytest.fixture
def reader(db):
    return client_for(member_of(roles.EXECUTIVES))


def test_the_runbook_table_reproduces_the_methodology_example(acme, reader):
    build_runbook_example(acme, DAY_START)

    healed = reader.get(PROOF).json()["kpis"]["self_healed"]

    table = {row["runbook_id"]: row for row in healed["runbook_table"]}
    assert list(table) == ["SSM-DiskCleanup-001", "SSM-ServiceRestart-002", "SSM-LogRotation-003"]
    seed_columns = ("incident_signatures", "executions", "success_rate", "avg_execution_time_sec", "total_time_saved_minutes")
    assert [tuple(row[column] for column in seed_columns) for row in table.values()] == [
        (["disk_full"], 45, 0.96, 120.0, 1665.0),
        (["service_down"], 32, 0.94, 90.0, 800.0),
        (["log_overflow"], 12, 1.0, 180.0, 600.0),
    ]
    disk = table["SSM-DiskCleanup-001"]
    # Like with like: the 10 disk_full incidents people fixed, not those without alerts (no signature) nor cpu_high.
    assert (disk["manual_incidents"], disk["manual_mttr_minutes"]) == (10, 45.0)
    assert (disk["automated_incidents"], disk["automated_mttr_minutes"]) == (43, 8.0)
    assert (disk["successful_executions"], disk["finished_executions"]) == (43, 45)
    assert healed["total_time_saved_minutes"] == 3065.0 == sum(row["total_time_saved_minutes"] for row in table.values())


def test_a_runbook_without_manual_incidents_of_its_signature_saves_no_known_time(acme, reader):
    build_runbook_example(acme, DAY_START)
    RunbookExecution.objects.create(
        company=acme, runbook_id="SSM-CacheClear-004", execution_id="cache-1", started_at=DAY_START, success=True
    )

    healed = reader.get(PROOF).json()["kpis"]["self_healed"]

    cache = next(row for row in healed["runbook_table"] if row["runbook_id"] == "SSM-CacheClear-004")
    assert (cache["total_time_saved_minutes"], cache["avg_execution_time_sec"], cache["finished_executions"]) == (None, None, 0)
    assert healed["total_time_saved_minutes"] == 3065.0


def test_median_resolution_times_are_shown_beside_the_means(acme, reader):
    build_runbook_example(acme, DAY_START)

    mttr = reader.get(PROOF).json()["kpis"]["mttr_reduction"]

    # Manual: 8 x 30, 10 x 45, 4 x 60, 2 x 90, 3 x 200 minutes (27, the 14th is 45); automated: 30 x 5, 43 x 8, 12 x 10.
    assert (mttr["manual_median_minutes"], mttr["automated_median_minutes"]) == (45.0, 8.0)
    assert (mttr["manual_mttr_minutes"], mttr["automated_mttr_minutes"]) == (63.3, 7.2)
    assert mttr["sample_size"] == {"manual": 27, "automated": 85}


def test_patch_compliance_comes_from_the_uploaded_instance_states(acme, reader):
    assert upload(patch_uploader(), "comp-acme", example_answer()).status_code == 201

    patch = reader.get(PROOF).json()["kpis"]["patch_compliance"]

    assert (patch["compliance_pct"], patch["compliant_instances"], patch["total_instances"]) == (87.5, 42, 48)
    assert patch["compliance_pct"] == round(100 * patch["compliant_instances"] / patch["total_instances"], 1)
    assert (patch["non_compliant_instances"], patch["critical_patches_missing"]) == (6, 8)
    assert (patch["age_of_results"], patch["within_period"], patch["source"]) == ("2 hours", True, "instance_patch_states")
    listed = [(row["instance_id"], row["critical_non_compliant_count"]) for row in patch["non_compliant"]]
    assert listed == [
        ("server-prod-03", 5), ("server-stage-12", 2), ("server-dev-08", 1),
        ("server-prod-07", 0), ("server-dev-11", 0), ("server-stage-04", 0),
    ]
    assert sum(critical for _, critical in listed) == patch["critical_patches_missing"]
    assert len(listed) == patch["total_instances"] - patch["compliant_instances"]
    assert [(group["patch_group"], group["age_of_results"]) for group in patch["age_by_patch_group"]] == [
        ("Development", "6 hours"), ("Production", "2 hours"), ("Staging", "4 hours"),
    ]
    assert sum(group["instances"] for group in patch["age_by_patch_group"]) == 48


def test_the_trend_has_each_days_latest_scan_over_30_days_and_summaries_only_before_the_first_upload(acme, reader):
    uploader = patch_uploader()
    day = datetime.timedelta(days=1)
    # Typed summaries: one 40 days back (outside the trend), one 20 days back; one after the first upload is ignored.
    for days_back, compliant in ((40, 30), (20, 40)):
        PatchComplianceSnapshot.objects.create(
            company=acme, scanned_at=EXAMPLE_END - days_back * day, total_instances=48,
            compliant_instances=compliant, non_compliant_instances=48 - compliant, critical_patches_missing=1,
        )
    hour = datetime.timedelta(hours=1)
    upload(uploader, "comp-acme", scan_answer(EXAMPLE_END - 2 * day - 10 * hour, 41, 48))
    upload(uploader, "comp-acme", scan_answer(EXAMPLE_END - 2 * day - 2 * hour, 43, 48, prefix="later"))
    PatchComplianceSnapshot.objects.create(
        company=acme, scanned_at=EXAMPLE_END - day, total_instances=10, compliant_instances=1,
        non_compliant_instances=9, critical_patches_missing=9,
    )
    upload(uploader, "comp-acme", example_answer())

    patch = reader.get(PROOF).json()["kpis"]["patch_compliance"]

    assert [(point["day"], point["compliance_pct"]) for point in patch["trend_30d"]] == [
        ("2023-12-27", 83.3),  # the summary (40 of 48)
        ("2024-01-13", 89.6),  # that day's later upload (43 of 48), not its earlier one
        ("2024-01-15", 87.5),  # the upload, not the summary typed that day after uploads began
    ]


def test_a_24h_period_without_a_scan_shows_the_latest_scan_with_its_age(acme, reader):
    upload(patch_uploader(), "comp-acme", example_answer())

    patch = reader.get("/api/metrics/kpis/?company_id=comp-acme&timeRange=24h&until=2024-01-19T00:00:00Z").json()["kpis"]["patch_compliance"]

    assert (patch["compliance_pct"], patch["within_period"]) == (87.5, False)
    assert (patch["age_of_results"], patch["last_scan_time"]) == ("74 hours", "2024-01-15T22:00:00+00:00")


def test_typed_summaries_still_give_compliance_without_uploads(acme, reader):
    PatchComplianceSnapshot.objects.create(
        company=acme, scanned_at=EXAMPLE_END - datetime.timedelta(hours=2), total_instances=48,
        compliant_instances=42, non_compliant_instances=6, critical_patches_missing=8,
    )

    patch = reader.get(PROOF).json()["kpis"]["patch_compliance"]

    assert (patch["compliance_pct"], patch["critical_patches_missing"], patch["source"]) == (87.5, 8, "summary")
    assert (patch["non_compliant"], patch["age_by_patch_group"]) == ([], [])


@pytest.mark.separate_tenants
def test_another_companys_runbooks_and_instances_never_appear(methodology_kpis):
    acme, globex = CompanyFactory(slug="comp-acme"), CompanyFactory(slug="comp-globex")
    build_runbook_example(globex, DAY_START)
    uploader = member_of("Data sources")
    Membership.objects.create(user=uploader, company=globex)
    uploader.user_permissions.add(Permission.objects.get(codename="add_patchscan"))
    assert upload(client_for(uploader), "comp-globex", example_answer(prefix="globex")).status_code == 201
    assert upload(client_for(uploader), "comp-acme", example_answer()).status_code == 400  # not its company
    executive = member_of(roles.EXECUTIVES)
    Membership.objects.create(user=executive, company=acme)
    reader = client_for(executive)

    response = reader.get(PROOF)

    kpis = response.json()["kpis"]
    assert (kpis["self_healed"]["runbook_table"], kpis["self_healed"]["total_time_saved_minutes"]) == ([], 0)
    assert kpis["patch_compliance"] is None
    assert "globex" not in response.content.decode()
    assert reader.get(PROOF.replace("comp-acme", "comp-globex")).status_code == 404
