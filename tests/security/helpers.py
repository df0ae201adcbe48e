"""
What the patch-state tests share: describe_instance_patch_states answers as AWS gives them, and the methodology's
worked example of one (48 instances, 42 compliant, 8 critical patches missing on 6 non-compliant instances).
"""
import datetime
import json

from django.contrib.auth.models import Permission

from tests.companyos.factories import UserFactory
from tests.helpers import client_for

# The methodology's example scan ends two hours before this (its "Last Scan: 2 hours ago").
EXAMPLE_END = datetime.datetime(2024, 1, 16, tzinfo=datetime.timezone.utc)
# Its non-compliant instances: (InstanceId, PatchGroup, MissingCount, FailedCount, CriticalNonCompliantCount).
EXAMPLE_NON_COMPLIANT = [
    ("server-prod-03", "Production", 7, 0, 5),
    ("server-stage-12", "Staging", 2, 1, 2),
    ("server-dev-08", "Development", 1, 0, 1),
    ("server-prod-07", "Production", 3, 0, 0),
    ("server-stage-04", "Staging", 0, 1, 0),
    ("server-dev-11", "Development", 2, 0, 0),
]
# Hours before EXAMPLE_END each patch group's newest operation ended (the seed's "Age of Results by Patch Group").
EXAMPLE_GROUP_AGES = {"Production": 2, "Staging": 4, "Development": 6}


def instance_state(instance_id, patch_group, operation_end_time, *, missing=0, failed=0, critical=0, installed=40):
    """One InstancePatchStates item as boto3's JSON gives it."""
    return {
        "InstanceId": instance_id,
        "PatchGroup": patch_group,
        "BaselineId": "pb-0123456789abcdef0",
        "SnapshotId": "4f2b4f0a-1c3d-4e5f-8a9b-0c1d2e3f4a5b",
        "OwnerInformation": "",
        "InstalledCount": installed,
        "InstalledOtherCount": 3,
        "InstalledPendingRebootCount": 0,
        "InstalledRejectedCount": 0,
        "MissingCount": missing,
        "FailedCount": failed,
        "UnreportedNotApplicableCount": 0,
        "NotApplicableCount": 120,
        "OperationStartTime": (operation_end_time - datetime.timedelta(minutes=6)).isoformat(),
        "OperationEndTime": operation_end_time.isoformat(),
        "Operation": "Scan",
        "RebootOption": "NoReboot",
        "CriticalNonCompliantCount": critical,
        "SecurityNonCompliantCount": critical,
        "OtherNonCompliantCount": 0,
    }


def example_answer(end=EXAMPLE_END, *, prefix="server"):
    """The worked example as one answer: 48 instances in three patch groups, the 6 of EXAMPLE_NON_COMPLIANT failing."""
    states = []
    for instance_id, group, missing, failed, critical in EXAMPLE_NON_COMPLIANT:
        at = end - datetime.timedelta(hours=EXAMPLE_GROUP_AGES[group], minutes=10)
        states.append(instance_state(instance_id.replace("server", prefix), group, at, missing=missing, failed=failed, critical=critical))
    for number in range(42):
        group = list(EXAMPLE_GROUP_AGES)[number % 3]
        at = end - datetime.timedelta(hours=EXAMPLE_GROUP_AGES[group], minutes=number % 2 * 30)
        states.append(instance_state(f"{prefix}-{group[:4].lower()}-{20 + number:02d}", group, at))
    return {"InstancePatchStates": states}


def scan_answer(end, compliant, total, *, prefix="host"):
    """An answer of `total` instances of which `compliant` are compliant, each non-compliant one missing 1 critical patch."""
    return {
        "InstancePatchStates": [
            instance_state(f"{prefix}-{number:03d}", "Production", end - datetime.timedelta(hours=1),
                           missing=0 if number < compliant else 1, critical=0 if number < compliant else 1)
            for number in range(total)
        ]
    }


def patch_uploader():
    """An API client with a data source's token that may upload patch states (a member of every company)."""
    user = UserFactory(is_staff=False)
    user.user_permissions.add(Permission.objects.get(codename="add_patchscan"))
    return client_for(user)


def upload(client, company_slug, answer):
    return client.post(f"/api/patch-states/?company={company_slug}", json.dumps(answer), content_type="application/json")
