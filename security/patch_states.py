"""
AWS Systems Manager Patch Manager's instance patch states: the answer of `ssm.describe_instance_patch_states` (or
`aws ssm describe-instance-patch-states --output json`), {"InstancePatchStates": [...]}, applied as one patch scan of
a company. The API upload and the demo call `apply_patch_states`, which keeps the payload as a connectors.SourceEvent
and applies it once, all or nothing. Every refusal names the position at fault, e.g.
`InstancePatchStates[3].MissingCount`.
"""
import datetime
import json
from typing import NamedTuple

from django.utils import timezone

from companyos.api.dates import moment_refusal
from connectors.choices import EventSource
from connectors.services import receive, upload_delivery_id

from .models import InstancePatchState, PatchScan
from .scanners import _array, _json_type, _object, _refuse, _text, parse_time, read_json

# The permission whoever uploads patch states needs (a data source's token).
UPLOAD_PERMISSION = "security.add_patchscan"
# An OperationEndTime may run ahead of our clock by this much (the account's clock is not ours).
CLOCK_SKEW = datetime.timedelta(minutes=5)
COUNTS = {
    "InstalledCount": "installed_count",
    "MissingCount": "missing_count",
    "FailedCount": "failed_count",
    "CriticalNonCompliantCount": "critical_non_compliant_count",
}
# The seed's script reads CriticalNonCompliantCount with .get(..., 0): older answers may lack it.
OPTIONAL_COUNTS = {"CriticalNonCompliantCount"}
MAX_COUNT = 2**31 - 1  # what a PositiveIntegerField holds on every database
LENGTHS = {field.name: field.max_length for field in InstancePatchState._meta.fields if field.max_length}


class InstanceRow(NamedTuple):
    instance_id: str
    patch_group: str
    installed_count: int
    missing_count: int
    failed_count: int
    critical_non_compliant_count: int
    operation_end_time: datetime.datetime


def _count(item, key, path):
    value = item.get(key)
    where = f"{path}.{key}"
    if value is None:
        if key in OPTIONAL_COUNTS:
            return 0
        _refuse(where, "This field is required.")
    if isinstance(value, bool) or not isinstance(value, int):
        _refuse(where, f"Expected a whole number, got {_json_type(value)}.")
    if not 0 <= value <= MAX_COUNT:
        _refuse(where, f"Expected a count from 0 to {MAX_COUNT}, got {value}.")
    return value


def _operation_end_time(item, path):
    """OperationEndTime as boto3's JSON gives it (ISO 8601 with its offset) or the AWS CLI's epoch seconds."""
    value = item.get("OperationEndTime")
    where = f"{path}.OperationEndTime"
    if value is None:
        _refuse(where, "This field is required.")
    if isinstance(value, str):
        moment = parse_time(value)
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        try:
            moment = datetime.datetime.fromtimestamp(value, tz=datetime.timezone.utc)
        except (OverflowError, OSError, ValueError):
            moment = None
    else:
        moment = None
    if moment is None:
        _refuse(where, f"Expected an ISO 8601 time with its offset or epoch seconds, got {json.dumps(value)}.")
    refusal = moment_refusal(moment)
    if refusal:
        _refuse(where, refusal)
    if moment > timezone.now() + CLOCK_SKEW:
        _refuse(where, f"{moment.isoformat()} is in the future.")
    return moment


def parse_patch_states(payload):
    """The instances of a describe_instance_patch_states answer, each once; a ValidationError naming the position."""
    _object(payload, "")
    if payload.get("NextToken"):
        _refuse("NextToken", "The answer has more pages: send every page's InstancePatchStates in one body.")
    states = _array(payload.get("InstancePatchStates"), "InstancePatchStates")
    if not states:
        _refuse("InstancePatchStates", "The answer lists no instance: there is no scan to record.")
    rows, seen = [], {}
    for index, item in enumerate(states):
        path = f"InstancePatchStates[{index}]"
        _object(item, path)
        instance_id = _text(item, "InstanceId", path, max_length=LENGTHS["instance_id"])
        if instance_id in seen:
            _refuse(f"{path}.InstanceId", f"{json.dumps(instance_id)} is listed already, at InstancePatchStates[{seen[instance_id]}].")
        seen[instance_id] = index
        rows.append(InstanceRow(
            instance_id=instance_id,
            patch_group=_text(item, "PatchGroup", path, max_length=LENGTHS["patch_group"], required=False),
            **{field: _count(item, key, path) for key, field in COUNTS.items()},
            operation_end_time=_operation_end_time(item, path),
        ))
    return rows


def apply_patch_states(company, content, *, user=None):
    """
    Apply the describe_instance_patch_states answer `content` (the body's bytes) as a patch scan of `company`; return
    connectors' Received (the event, and the scan and instances it produced). The scan's time is the newest
    OperationEndTime of its instances. The same body for the same company is one delivery: sending it again changes
    nothing. Raises ValidationError naming the position at fault: the body when it is not JSON (nothing is kept), an
    answer's field otherwise (the event is kept as failed).
    """
    payload = read_json(content)

    def apply(event):
        rows = parse_patch_states(event.payload)
        scan = PatchScan.objects.create(
            company=company, scanned_at=max(row.operation_end_time for row in rows), source_event=event
        )
        instances = InstancePatchState.objects.bulk_create(InstancePatchState(scan=scan, **row._asdict()) for row in rows)
        return {"security.patchscan": [scan.pk], "security.instancepatchstate": [instance.pk for instance in instances]}

    return receive(
        EventSource.SSM_PATCH_STATES, upload_delivery_id(content, company.pk), apply, event_type="instance-patch-states",
        payload=payload, company=company, user=user,
    )
