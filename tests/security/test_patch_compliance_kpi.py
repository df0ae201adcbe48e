"""The patch-compliance KPI's daily values: the latest scan of each day, per-instance states once a company sends them."""
import datetime

import pytest

from kpis.choices import ObservationSource
from kpis.models import Observation
from kpis.observations import compute_observations
from security.patch_compliance import patch_compliance_evidence
from tests.incidents.factories import PatchComplianceSnapshotFactory
from tests.security.helpers import EXAMPLE_END, example_answer, instance_state, patch_uploader, scan_answer, upload
from tests.tenancy.factories import CompanyFactory

DAY = datetime.timedelta(days=1)


@pytest.fixture
def acme(computed_kpis):
    return CompanyFactory(slug="comp-acme")


def daily_values(since, until):
    compute_observations("patch-compliance", since=since, until=until, source=ObservationSource.BACKFILL, run="test")
    return [(o.observed_at.date().isoformat(), o.value) for o in Observation.objects.filter(kpi__slug="patch-compliance").order_by("observed_at")]


def test_each_day_takes_its_latest_scan_summaries_until_the_first_upload(acme):
    PatchComplianceSnapshotFactory(company=acme, scanned_at=EXAMPLE_END - 3 * DAY, compliant_instances=24)
    upload(patch_uploader(), "comp-acme", scan_answer(EXAMPLE_END - DAY - datetime.timedelta(hours=6), 45, 48))
    PatchComplianceSnapshotFactory(company=acme, scanned_at=EXAMPLE_END - DAY + datetime.timedelta(hours=1), compliant_instances=1)
    upload(patch_uploader(), "comp-acme", example_answer())

    values = daily_values((EXAMPLE_END - 4 * DAY).date(), EXAMPLE_END.date())

    assert values == [("2024-01-13", 50.0), ("2024-01-14", 93.75), ("2024-01-15", 87.5)]


def test_an_instance_is_compliant_when_nothing_is_missing_or_failed_as_the_methodology_counts(acme):
    end = EXAMPLE_END - datetime.timedelta(hours=1)
    answer = {"InstancePatchStates": [
        instance_state("i-clean", "Production", end),
        # Critical patches installed but awaiting a reboot: neither missing nor failed, so compliant, and not counted
        # among the critical patches missing (the methodology counts those of non-compliant instances only).
        instance_state("i-pending-reboot", "Production", end, critical=2),
        instance_state("i-missing", "Production", end, missing=3, critical=1),
        instance_state("i-failed", "Production", end, failed=1),
    ]}
    upload(patch_uploader(), "comp-acme", answer)

    evidence = patch_compliance_evidence(acme, EXAMPLE_END - DAY, EXAMPLE_END)

    assert (evidence["compliant_instances"], evidence["non_compliant_instances"], evidence["total_instances"]) == (2, 2, 4)
    assert (evidence["compliance_pct"], evidence["critical_patches_missing"]) == (50.0, 1)
