"""Uploading AWS Patch Manager's instance patch states: stored per instance per scan, kept as a source event, refused by position."""
import datetime
import json

import pytest

from connectors.models import SourceEvent
from security.models import InstancePatchState, PatchScan
from tests.companyos.factories import UserFactory
from tests.helpers import client_for
from tests.security.helpers import EXAMPLE_END, example_answer, instance_state, patch_uploader, upload
from tests.tenancy.factories import CompanyFactory


@pytest.fixture
def acme(db):
    return CompanyFactory(slug="comp-acme")


def test_an_answer_is_one_scan_of_its_instances_kept_with_its_payload(acme):
    answer = example_answer()

    response = upload(patch_uploader(), "comp-acme", answer)

    assert response.status_code == 201
    scan = PatchScan.objects.get()
    assert (scan.company, scan.scanned_at) == (acme, EXAMPLE_END - datetime.timedelta(hours=2))
    assert scan.instances.count() == 48
    prod = InstancePatchState.objects.get(instance_id="server-prod-03")
    assert (prod.patch_group, prod.missing_count, prod.failed_count, prod.critical_non_compliant_count) == ("Production", 7, 0, 5)
    event = SourceEvent.objects.get()
    assert (event.source, event.company, event.payload) == ("ssm-patch-states", acme, answer)
    assert response.json()["produced"]["security.patchscan"] == [scan.pk]


def test_the_same_answer_again_changes_nothing(acme):
    uploader = patch_uploader()
    upload(uploader, "comp-acme", example_answer())

    again = upload(uploader, "comp-acme", example_answer())

    assert (again.status_code, again.json()["redelivery"]) == (200, True)
    assert PatchScan.objects.count() == 1


def test_the_aws_clis_epoch_seconds_are_read_as_times(acme):
    state = instance_state("i-0abc", "", EXAMPLE_END)
    state["OperationEndTime"] = EXAMPLE_END.timestamp()
    del state["CriticalNonCompliantCount"]  # older answers lack it: 0

    assert upload(patch_uploader(), "comp-acme", {"InstancePatchStates": [state]}).status_code == 201
    instance = InstancePatchState.objects.get()
    assert (instance.operation_end_time, instance.critical_non_compliant_count, instance.patch_group) == (EXAMPLE_END, 0, "")


@pytest.mark.parametrize("change, field, message", [
    (lambda states: states[3].update(MissingCount=-1), "InstancePatchStates[3].MissingCount", "Expected a count"),
    (lambda states: states[2].update(FailedCount="2"), "InstancePatchStates[2].FailedCount", "Expected a whole number"),
    (lambda states: states[1].update(InstalledCount=True), "InstancePatchStates[1].InstalledCount", "Expected a whole number"),
    (lambda states: states[4].pop("InstanceId"), "InstancePatchStates[4].InstanceId", "required"),
    (lambda states: states[5].update(InstanceId=states[0]["InstanceId"]), "InstancePatchStates[5].InstanceId", "listed already"),
    (lambda states: states[0].update(OperationEndTime="2024-01-15T10:00:00"), "InstancePatchStates[0].OperationEndTime", "ISO 8601"),
    (lambda states: states[0].update(OperationEndTime="2999-01-01T00:00:00Z"), "InstancePatchStates[0].OperationEndTime", "outside"),
    (lambda states: states.clear(), "InstancePatchStates", "no instance"),
])
def test_a_bad_answer_is_refused_naming_the_position_and_kept_as_failed(acme, change, field, message):
    answer = example_answer()
    change(answer["InstancePatchStates"])

    response = upload(patch_uploader(), "comp-acme", answer)

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["message"].startswith(f"{field}: ") and message in error["message"], error
    assert not PatchScan.objects.exists()
    assert SourceEvent.objects.get().status == "failed"


def test_an_answer_with_more_pages_is_refused(acme):
    response = upload(patch_uploader(), "comp-acme", {**example_answer(), "NextToken": "AAEAAQ=="})

    assert response.status_code == 400
    assert response.json()["error"]["message"].startswith("NextToken: ")


def test_a_body_that_is_not_json_or_names_no_company_is_refused(acme):
    uploader = patch_uploader()
    not_json = uploader.post("/api/patch-states/?company=comp-acme", "{", content_type="application/json")
    no_company = uploader.post("/api/patch-states/", json.dumps(example_answer()), content_type="application/json")

    assert (not_json.status_code, no_company.status_code) == (400, 400)
    assert not_json.json()["error"]["message"].startswith("body: Not JSON")
    assert no_company.json()["error"]["message"].startswith("company: ")


def test_only_a_token_with_the_upload_permission_writes(acme):
    response = upload(client_for(UserFactory(is_staff=False)), "comp-acme", example_answer())

    assert response.status_code == 403
    assert not PatchScan.objects.exists()


def test_the_admin_lists_scans_and_shows_each_ones_instances_read_only(acme, client, superuser):
    upload(patch_uploader(), "comp-acme", example_answer())
    client.force_login(superuser)

    listed = client.get("/admin/security/patchscan/")
    shown = client.get(f"/admin/security/patchscan/{PatchScan.objects.get().pk}/change/")

    assert listed.status_code == 200 and "comp-acme" in listed.content.decode()
    assert shown.status_code == 200 and "server-prod-03" in shown.content.decode()
