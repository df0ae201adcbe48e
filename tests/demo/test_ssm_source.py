"""The AWS Systems Manager demo: patch-state answers through the upload's path and runbook history that fills the proof."""
import datetime

from connectors.models import SourceEvent
from demo.sources.ssm import seed_ssm
from kpis.calculators.runbooks import runbook_table, total_time_saved
from kpis.proof import PROOF_SECTIONS
from security.models import PatchScan

START = datetime.datetime(2024, 1, 1, tzinfo=datetime.timezone.utc)
END = START + datetime.timedelta(days=14)


def test_the_demo_fills_the_runbook_table_and_the_patch_instances_and_a_second_run_adds_nothing(companies):
    summary = seed_ssm(companies, START, END, seed=42)
    again = seed_ssm(companies, START, END, seed=42)

    acme = companies[0]
    assert summary["patch-state answers"] == PatchScan.objects.count() == 2 * 14
    assert again == {"patch-state redeliveries": 2 * 14}
    assert set(SourceEvent.objects.values_list("source", "status").distinct()) == {("ssm-patch-states", "processed")}
    table = runbook_table(acme, START, END)
    assert [row["incident_signatures"] for row in table if row["runbook_id"] == "SSM-DiskCleanup-001"] == [["disk_full"]]
    assert len(table) == 4
    assert all(row["total_time_saved_minutes"] > 0 and row["avg_execution_time_sec"] for row in table)
    assert total_time_saved(table) > 0
    patch = PROOF_SECTIONS["patch-compliance"](acme, START, END)
    assert patch["total_instances"] == 48 and len(patch["non_compliant"]) == patch["non_compliant_instances"]
    assert [group["patch_group"] for group in patch["age_by_patch_group"]] == ["Development", "Production", "Staging"]
    assert len(patch["trend_30d"]) == 14
