"""
Demo AWS Systems Manager history of each company's EC2 fleet (about 48 instances in the patch groups Production,
Staging and Development):

- Patch Manager: one `describe_instance_patch_states` answer a day, applied through
  security.patch_states.apply_patch_states, the upload's own path. Most instances are compliant; a few miss patches
  (some critical) or failed to install them, and catch up by a later scan.
- OpsCenter and Automation: CloudWatch alarms on the instances for the four problems the seed's SSM runbooks fix,
  grouped into one OpsItem per alarm burst (its dedup string asset|signature is the incident's correlation key, so each
  incident has the signature of its alarms). About two thirds are fixed by the problem's runbook in minutes (a
  successful Automation execution of 1-4 minutes); the rest by people at the seed's baseline MTTR, a few after the
  runbook ran and failed. Like the demo's incident history, these are bulk-inserted raw history.

Every value comes from random.Random seeded with the seed, "ssm" and the company, and every time from the period, so
the same arguments give the same payloads (a second run is all redeliveries and inserts nothing new). Nothing is dated
after `end` (or now).
"""
import datetime
import json
import math
import random
from collections import Counter

from django.db import transaction
from django.utils import timezone

from companyos.bulk import insert_rows
from incidents.choices import AlertSeverity, IncidentStatus, Severity
from incidents.models import Alert, Incident, RunbookExecution
from security.patch_states import apply_patch_states

from ..registry import demo_source

PATCH_GROUPS = {"Production": 20, "Staging": 16, "Development": 12}  # instances per group
# Hours after midnight each group's daily scan ends (the seed's ages: production freshest).
SCAN_HOURS = {"Production": 6.0, "Staging": 4.5, "Development": 3.0}
NON_COMPLIANT_SHARE = 0.08  # instances that fall behind on a given day
CRITICAL_SHARE = 0.5  # of those, the ones missing critical patches
FAILED_SHARE = 0.25  # of those, the ones whose install failed
# (signature, runbook, baseline MTTR and automated MTTR in minutes, typical run seconds): the seed's runbook table.
PROBLEMS = [
    ("disk_full", "SSM-DiskCleanup-001", 45, 8, 120),
    ("service_down", "SSM-ServiceRestart-002", 30, 5, 90),
    ("log_overflow", "SSM-LogRotation-003", 60, 10, 180),
    ("cache_pressure", "SSM-CacheClear-004", 20, 3, 60),
]
PROBLEMS_PER_DAY = (2, 5)
AUTOMATED_SHARE = 0.65
FAILED_RUN_SHARE = 0.1  # of the problems people fixed: the runbook ran first and failed
ALARMS_PER_BURST = (1, 4)


def _instances(company):
    """The company's instances, (InstanceId, PatchGroup), the same every time."""
    rng = random.Random(f"ssm:{company.slug}:instances")
    return [(f"i-{rng.getrandbits(68):017x}", group) for group, count in PATCH_GROUPS.items() for _ in range(count)]


def _patch_answer(rng, instances, day):
    """One day's describe_instance_patch_states answer."""
    states = []
    for instance_id, group in instances:
        missing = failed = critical = 0
        if rng.random() < NON_COMPLIANT_SHARE:
            missing = rng.randint(1, 6)
            failed = 1 if rng.random() < FAILED_SHARE else 0
            critical = rng.randint(1, min(3, missing)) if rng.random() < CRITICAL_SHARE else 0
        ended = day + datetime.timedelta(hours=SCAN_HOURS[group], minutes=rng.randint(0, 20))
        states.append({
            "InstanceId": instance_id, "PatchGroup": group, "BaselineId": "pb-0e8b7c6d5a4f3e2d1",
            "InstalledCount": rng.randint(60, 140), "InstalledOtherCount": rng.randint(0, 8), "InstalledPendingRebootCount": 0,
            "InstalledRejectedCount": 0, "MissingCount": missing, "FailedCount": failed, "NotApplicableCount": rng.randint(200, 900),
            "OperationStartTime": (ended - datetime.timedelta(minutes=rng.randint(3, 12))).isoformat(),
            "OperationEndTime": ended.isoformat(), "Operation": "Scan", "RebootOption": "NoReboot",
            "CriticalNonCompliantCount": critical, "SecurityNonCompliantCount": critical, "OtherNonCompliantCount": 0,
        })
    return {"InstancePatchStates": states}


def _minutes(rng, median):
    return max(1.0, rng.lognormvariate(math.log(median), 0.3))


def _problems(rng, company, instances, start, end):
    """The rows of each problem: its incident, its alarms and its Automation runs, all within [start, end)."""
    day = start
    while day < end:
        for _ in range(rng.randint(*PROBLEMS_PER_DAY)):
            signature, runbook, manual, automated, seconds = rng.choice(PROBLEMS)
            instance_id, _group = rng.choice(instances)
            detected = day + datetime.timedelta(seconds=rng.randint(0, 86_399))
            fixed_by_runbook = rng.random() < AUTOMATED_SHARE
            resolved = detected + datetime.timedelta(minutes=_minutes(rng, automated if fixed_by_runbook else manual))
            alarms = [detected + datetime.timedelta(minutes=3 * n) for n in range(rng.randint(*ALARMS_PER_BURST))]
            if resolved >= end or alarms[-1] >= end:
                continue
            ops_item = f"oi-{rng.getrandbits(48):012x}"
            runs = []
            if fixed_by_runbook or rng.random() < FAILED_RUN_SHARE:
                started = detected + datetime.timedelta(seconds=rng.randint(20, 90))
                runs.append((f"{rng.getrandbits(128):032x}", runbook, started,
                             started + datetime.timedelta(seconds=seconds * rng.uniform(0.7, 1.3)), fixed_by_runbook))
            yield {
                "incident": (
                    company.pk, ops_item, f"{signature} on {instance_id}", Severity.P3, IncidentStatus.RESOLVED, detected,
                    resolved, fixed_by_runbook, runbook if fixed_by_runbook else "", f"{instance_id}|{signature}",
                ),
                "alarms": [(company.pk, instance_id, signature, AlertSeverity.HIGH, at, "cloudwatch",
                            f"{ops_item}-alarm-{n}") for n, at in enumerate(alarms)],
                "runs": runs,
            }
        day += datetime.timedelta(days=1)


def _seed_problems(company, rng, instances, start, end, counts):
    if Incident.objects.filter(company=company, external_id__startswith="oi-").exists():
        return  # seeded before: the same rows again
    problems = list(_problems(rng, company, instances, start, end))
    insert_rows(
        Incident,
        ["company", "external_id", "title", "severity", "status", "detected_at", "resolved_at", "automation_used",
         "runbook_id", "correlation_key"],
        [problem["incident"] for problem in problems],
    )
    ids = dict(Incident.objects.filter(company=company, external_id__startswith="oi-").values_list("external_id", "id"))
    counts["ssm incidents"] += len(problems)
    counts["cloudwatch alarms"] += insert_rows(
        Alert, ["company", "asset", "signature", "severity", "issued_at", "source", "external_id", "incident"],
        [(*alarm, ids[problem["incident"][1]]) for problem in problems for alarm in problem["alarms"]],
    )
    counts["automation executions"] += insert_rows(
        RunbookExecution, ["company", "incident", "execution_id", "runbook_id", "started_at", "finished_at", "success"],
        [(company.pk, ids[problem["incident"][1]], *run) for problem in problems for run in problem["runs"]],
    )


@demo_source("ssm", order=45)
def seed_ssm(companies, start, end, seed):
    """
    Apply a patch-states answer a day for each of `companies` over [start, end), and insert their OpsItems, alarms and
    Automation executions. Returns counts: answers applied (and redelivered), and the rows inserted.
    """
    counts = Counter()
    end = min(end, timezone.now())
    for company in companies:
        instances = _instances(company)
        rng = random.Random(f"{seed}:ssm:{company.slug}")
        with transaction.atomic():
            day = start
            while day + datetime.timedelta(hours=max(SCAN_HOURS.values()) + 1) <= end:
                answer = json.dumps(_patch_answer(rng, instances, day), sort_keys=True).encode()
                received = apply_patch_states(company, answer)
                counts["patch-state answers" if received.created else "patch-state redeliveries"] += 1
                day += datetime.timedelta(days=1)
            _seed_problems(company, rng, instances, start, end, counts)
    return dict(counts)
