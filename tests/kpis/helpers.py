"""
Helpers the registry's tests share: catalogue definitions, Prometheus integrations, the one to the other, SLOs, and
the methodology's runbook example as incident data, the admin's change form.
"""
import datetime
import json

from django.forms.models import model_to_dict
from companyos.api.dates import period_ending
from connectors.models import Integration
from incidents.models import Alert, Incident, RunbookExecution
from connectors.services import save_integration
from kpis import services
from kpis.catalogue import read_catalogue
from kpis.proof import kpi_metrics
from security.patch_states import apply_patch_states
from tests.kpis.factories import KpiDefinitionFactory
from tests.security.helpers import EXAMPLE_END, example_answer
from tests.tenancy.factories import CompanyFactory


def catalogue_definition(slug):
    """The catalogue's definition of `slug`, with its PromQL, created through the audited service."""
    entry = next(entry for entry in read_catalogue() if entry["slug"] == slug)
    return services.create_definition(actor=None, reason="From the catalogue", **entry)


def prometheus_at(url, name="Prometheus", **fields):
    return save_integration(Integration(kind="prometheus", name=name, url=url, **fields), actor=None, reason="Monitoring")


def collected_from(kpi, integration):
    return services.change_definition(kpi, actor=None, reason="Collected from Prometheus", prometheus=integration)


# An availability SLO as a team would write it: 99.9 % of checkout requests answered without a server error
# over 30 days, from the request counter's good and total selectors.
AVAILABILITY_SLO = {
    "slo_objective": 99.9,
    "slo_period_days": 30,
    "sli_good_promql": 'http_requests_total{job="checkout", code!~"5.."}',
    "sli_total_promql": 'http_requests_total{job="checkout"}',
}


def slo_definition(slug="checkout-availability", **fields):
    """An active definition of `slug` carrying AVAILABILITY_SLO (overridden by `fields`)."""
    values = {
        "name": "Checkout availability", "units": "percent", "direction": "higher", "target": 99.9,
        "critical_threshold": 99.5, "dimension": "reliability", "weight": 10, **AVAILABILITY_SLO, **fields,
    }
    return KpiDefinitionFactory(slug=slug, **values)


# The methodology's runbook tracking table as incident data: per runbook its signature, executions, successful
# executions, execution seconds, automated MTTR and the manual MTTR of the same signature (minutes), and how many
# incidents of that signature people resolved. Time saved: (45 - 8) x 45 = 1665, (30 - 5) x 32 = 800, (60 - 10) x 12 = 600.
RUNBOOK_EXAMPLE = [
    ("SSM-DiskCleanup-001", "disk_full", 45, 43, 120, 8, 45, 10),
    ("SSM-ServiceRestart-002", "service_down", 32, 30, 90, 5, 30, 8),
    ("SSM-LogRotation-003", "log_overflow", 12, 12, 180, 10, 60, 4),
]


def build_runbook_example(company, day_start):
    """
    RUNBOOK_EXAMPLE in `company` on the UTC day from `day_start`: incidents correlated from one alert each, those its
    runbook fixed (each with its successful run) and those people fixed (the failed runs among them), plus incidents the
    comparison must leave out: two of a signature no runbook has (90 min) and three without alerts (200 min).
    """
    minute = datetime.timedelta(minutes=1)
    incidents, alerts, runs = [], [], []

    def incident(signature, minutes, *, runbook="", alerted=True):
        number = len(incidents)
        detected = day_start + number * 5 * minute
        row = Incident(
            company=company, external_id=f"alert-example-{number}", title=f"{signature} on host-{number}", severity="P3",
            status="resolved", detected_at=detected, resolved_at=detected + minutes * minute, automation_used=bool(runbook),
            runbook_id=runbook, correlation_key=f"host-{number}|{signature}" if alerted else "",
        )
        incidents.append(row)
        if alerted:
            alerts.append((row, Alert(company=company, asset=f"host-{number}", signature=signature, severity="high",
                                      source="cloudwatch", issued_at=detected)))
        return row

    def run(runbook, row, seconds, success):
        started = row.detected_at + minute
        runs.append(RunbookExecution(
            company=company, runbook_id=runbook, execution_id=f"{runbook}-{len(runs)}", started_at=started,
            finished_at=started + datetime.timedelta(seconds=seconds), success=success, incident=row,
        ))

    for runbook, signature, executions, successes, seconds, automated, manual, manual_count in RUNBOOK_EXAMPLE:
        for _ in range(successes):
            run(runbook, incident(signature, automated, runbook=runbook), seconds, True)
        fixed_by_people = [incident(signature, manual) for _ in range(manual_count)]
        for number in range(executions - successes):
            run(runbook, fixed_by_people[number], seconds, False)
    for _ in range(2):
        incident("cpu_high", 90)
    for _ in range(3):
        incident("disk_full", 200, alerted=False)
    Incident.objects.bulk_create(incidents)
    for row, alert in alerts:
        alert.incident = row
    Alert.objects.bulk_create(alert for _, alert in alerts)
    for execution in runs:
        execution.incident_id = execution.incident.pk
    RunbookExecution.objects.bulk_create(runs)


def methodology_proof_example():
    """
    comp-acme with the methodology KPIs, RUNBOOK_EXAMPLE and the example's patch states; its proof's "kpis" of the
    example's day as JSON text (the same on PostgreSQL and SQLite).
    """
    company = CompanyFactory(slug="comp-acme")
    for slug in ("noise-reduction", "mttr-reduction", "self-healed", "patch-compliance"):
        KpiDefinitionFactory(slug=slug, units="percent", direction="higher", target=None, critical_threshold=None, weight=0)
    build_runbook_example(company, EXAMPLE_END - datetime.timedelta(days=1))
    apply_patch_states(company, json.dumps(example_answer()).encode())
    payload = kpi_metrics(company, period=period_ending(EXAMPLE_END, "30d"), visible_slugs=[
        "noise-reduction", "mttr-reduction", "self-healed", "patch-compliance",
    ])
    return json.dumps(payload["kpis"], sort_keys=True)


# The definition fields the admin's change form does not post.
NOT_IN_ADMIN_FORM = ["id", "slug", "last_reviewed_at", "next_review_due"]


def admin_form_data(kpi, *, with_owner=False, **overrides):
    """
    What the admin's change form posts for `kpi` unchanged (JSON fields as the text the form shows), with
    `overrides` applied. The owner field is on the superuser's form only.
    """
    data = model_to_dict(kpi, exclude=NOT_IN_ADMIN_FORM + ([] if with_owner else ["owner"]))
    for name in ("targets", "target_schedule"):
        data[name] = json.dumps(data[name])
    data.update(overrides)
    return {name: "" if value is None else value for name, value in data.items()}
