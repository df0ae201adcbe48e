"""
Deterministic demo history for the portal: companies, their services, incidents with timelines,
raw alerts waiting for correlation, patch scans and daily observations of the KPIs no connector
feeds.

Every value comes from random.Random seeded with the --seed and a name (company, incident number,
series), and every time from the period, so the same arguments on the same day give the same data,
whatever the order things are generated in. Incident data is generated lazily and streamed to
companyos.bulk.insert_rows, so a million alerts never sit in memory; the observations go through
kpis.observations.record_observations, the ingestion path of measured values.
"""
import datetime
import math
import random
import sys
from dataclasses import dataclass, field
from itertools import islice

from django.db import transaction
from tqdm import tqdm

from companyos.bulk import insert_rows
from incidents import services
from incidents.choices import AlertSeverity, IncidentStatus, Phase, Severity
from incidents.models import Alert, Incident, Milestone, PatchComplianceSnapshot, PhaseTransition, RunbookExecution, SurveyResponse
from tenancy.models import Company, Domain, Service
from kpis.choices import ObservationSource, Units
from kpis.models import KpiDefinition
from kpis.observations import record_observations
from pipeline.tasks import create_month_partitions

from .companies import company_identities
from .period import demo_period
from .values import wandering_values

# The company -> domain -> service cascade of the health model.
CASCADE = [
    ("data-platform", "Data Platform", [("neo4j", "Neo4j"), ("ingest", "Ingest")]),
    ("api-gateway", "API Gateway", [("gateway", "Gateway"), ("auth", "Auth")]),
    ("frontend", "Frontend", [("web", "Web"), ("apollo-client", "Apollo Client")]),
]


@dataclass(frozen=True)
class Signature:
    name: str
    label: str
    runbook_id: str = ""
    automated_minutes: float = 0  # the typical resolution time when its runbook fixes it


# The first four have the seed's SSM runbooks and automated MTTRs.
SIGNATURES = [
    Signature("disk_full", "Disk full", "SSM-DiskCleanup-001", 8),
    Signature("service_down", "Service down", "SSM-ServiceRestart-002", 5),
    Signature("log_overflow", "Log overflow", "SSM-LogRotation-003", 10),
    Signature("cache_pressure", "Cache pressure", "SSM-CacheClear-004", 3),
    Signature("high_latency", "High latency"),
    Signature("error_rate_spike", "Error rate spike"),
    Signature("cpu_high", "CPU high"),
    Signature("memory_leak", "Memory leak"),
    Signature("replication_lag", "Replication lag"),
    Signature("certificate_expiry", "Certificate expiry"),
]

SEVERITY_MIX = {Severity.P1: 3, Severity.P2: 17, Severity.P3: 40, Severity.P4: 40}
# Share of incidents with a runbook signature that the runbook resolves (P1s always get humans).
AUTOMATION_SHARE = 0.65
# Share of the other runbook-signature incidents where the runbook ran and failed before a human fixed it.
FAILED_RUNBOOK_SHARE = 0.10
# Manual resolution: log-normal with a 35 min median and a long tail (mean about 45 min over the severity mix).
MANUAL_MEDIAN_MINUTES, MANUAL_SIGMA = 35, 0.9
SEVERITY_DURATION_FACTOR = {Severity.P1: 1.6, Severity.P2: 1.2, Severity.P3: 1.0, Severity.P4: 0.8}
MTTA_MEDIAN_MINUTES = {Severity.P1: 4, Severity.P2: 8, Severity.P3: 15, Severity.P4: 20}
MILESTONE_ON_TIME_SHARE = 0.9
SURVEY_SCORES = {5: 50, 4: 35, 3: 10, 2: 3, 1: 2}  # mean 4.28
SURVEY_RESPONDENTS = {Severity.P1: (2, 4), Severity.P2: (1, 3), Severity.P3: (0, 2), Severity.P4: (0, 1)}

# Alerts come in bursts of one key a few minutes apart; this size mix (mean about 2.4) makes default
# correlation reduce noise by 55-65 %.
BURST_SIZES = {1: 40, 2: 25, 3: 15, 4: 9, 5: 5, 6: 3, 8: 3}
BURST_GAP_SECONDS = (20, 360)
ALERT_SEVERITY_MIX = {AlertSeverity.CRITICAL: 5, AlertSeverity.HIGH: 20, AlertSeverity.WARNING: 45, AlertSeverity.INFO: 30}
ALERT_SOURCES = {"alertmanager": 60, "cloudwatch": 25, "datadog": 15}
# More alerts per day get more assets, so bursts of one key rarely overlap by chance at any volume.
ALERTS_PER_ASSET_PER_DAY = 100
MIN_ASSETS_PER_SERVICE = 6
# Incidents are generated and written this many at a time, then what hangs off them: each is generated once, and
# no more than this many sit in memory.
INCIDENT_CHUNK = 5_000

# The KPIs no connector feeds (their tools - OPA, auth logs, compliance dashboard, analytics sessions,
# surveys, finance, coverage, time tracking - have none yet): the demo gives them daily observations.
# Every other KPI's demo data comes through its connector (`manage.py seed_demo_sources`).
MEASURED_KPIS = [
    "abac-policy-coverage", "failed-auth-attempts", "compliance-score", "session-duration", "nps",
    "cac-payback-period", "test-coverage", "toil-ratio",
]
# Their values wander around the target (demo.values); these units take whole numbers.
WHOLE_NUMBER_UNITS = {Units.COUNT, Units.DAYS}


class DemoDataExists(Exception):
    """The demo companies already have incident data; seeding again would duplicate it."""


@dataclass
class SeedSummary:
    companies: list
    rows: dict = field(default_factory=dict)
    notes: list = field(default_factory=list)


@dataclass
class DemoCompany:
    company: Company
    services: list  # Service rows, in cascade order
    assets: dict  # service id -> asset names
    incidents: int
    alerts: int


def seed_demo(*, companies=2, incidents=400, alerts=4000, days=30, seed=42, reset=False, progress=False, today=None):
    """
    Generate the demo history; return a SeedSummary of the rows written.

    `incidents` and `alerts` are totals over all companies, split evenly. Raises DemoDataExists when any
    demo company already has incidents or alerts, unless `reset` first deletes the demo companies.
    """
    identities = company_identities(companies)
    existing = Company.objects.filter(slug__in=[slug for slug, _ in identities])
    if reset:
        # Alerts go first in one statement; deleting the companies then cascades through far fewer rows.
        Alert.objects.filter(company__in=existing).delete()
        existing.delete()
    elif Incident.objects.filter(company__in=existing).exists() or Alert.objects.filter(company__in=existing).exists():
        raise DemoDataExists(
            f"The demo companies ({', '.join(sorted(existing.values_list('slug', flat=True)))}) already have data."
        )
    start, end = demo_period(days, today)
    # On PostgreSQL the seeded months get their partitions first, so their rows land there and not in the DEFAULT one.
    create_month_partitions(since=start.date().isoformat())
    summary = SeedSummary(companies=[slug for slug, _ in identities])
    demo_companies = [
        _create_company(slug, name, days, share(incidents, companies, index), share(alerts, companies, index))
        for index, (slug, name) in enumerate(identities)
    ]
    for demo in demo_companies:
        _seed_company(demo, seed, start, end, summary, progress)
    _seed_observations(demo_companies, seed, start, days, summary, progress)
    return summary


def share(total, parts, index):
    """Part `index` of `total` split into `parts` near-equal whole parts (earlier parts get the remainder)."""
    return total // parts + (1 if index < total % parts else 0)


@transaction.atomic
def _create_company(slug, name, days, incidents, alerts):
    company, _ = Company.objects.get_or_create(slug=slug, defaults={"name": name})
    if not hasattr(company, "correlation_config"):
        services.create_correlation_config(company, actor=None, reason="Demo data: the default correlation")
    assets_per_service = max(MIN_ASSETS_PER_SERVICE, math.ceil(alerts / max(days, 1) / len(CASCADE) / 2 / ALERTS_PER_ASSET_PER_DAY))
    service_rows, assets = [], {}
    for domain_slug, domain_name, service_specs in CASCADE:
        domain, _ = Domain.objects.get_or_create(company=company, slug=domain_slug, defaults={"name": domain_name})
        for service_slug, service_name in service_specs:
            service, _ = Service.objects.get_or_create(domain=domain, slug=service_slug, defaults={"name": service_name})
            service_rows.append(service)
            assets[service.pk] = [f"{service_slug}-{n}" for n in range(1, assets_per_service + 1)]
    return DemoCompany(company, service_rows, assets, incidents, alerts)


def _weighted(rng, weights):
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _seconds(value):
    """A datetime truncated to whole seconds, as sources report them."""
    return value.replace(microsecond=0)


@dataclass
class IncidentSpec:
    """One generated incident and everything that hangs off it, before ids exist."""

    row: tuple
    external_id: str
    phases: list
    milestones: list
    surveys: list
    runbook_runs: list


INCIDENT_FIELDS = [
    "company", "service", "external_id", "title", "severity", "status", "detected_at", "acknowledged_at",
    "resolved_at", "automation_used", "runbook_id",
]


def _incident_spec(demo, seed, number, start, end):
    """Incident `number` of the company: the same spec every time it is asked for."""
    rng = random.Random(f"{seed}:{demo.company.slug}:incident:{number}")
    slug = demo.company.slug
    external_id = f"PD-{number + 1:06d}"
    service = rng.choice(demo.services)
    asset = rng.choice(demo.assets[service.pk])
    signature = rng.choice(SIGNATURES)
    severity = _weighted(rng, SEVERITY_MIX)
    detected = _seconds(start + (end - start) * rng.random())
    automated = bool(signature.runbook_id) and severity != Severity.P1 and rng.random() < AUTOMATION_SHARE
    if automated:
        minutes = rng.lognormvariate(math.log(signature.automated_minutes), 0.35)
    else:
        minutes = rng.lognormvariate(math.log(MANUAL_MEDIAN_MINUTES), MANUAL_SIGMA) * SEVERITY_DURATION_FACTOR[severity]
    resolved = _seconds(detected + datetime.timedelta(minutes=max(minutes, 1.5)))
    duration = resolved - detected
    phases, milestones, surveys, runbook_runs = [(Phase.ALERT, detected)], [], [], []
    acknowledged = None
    if automated:
        runbook_runs.append((signature.runbook_id, detected + datetime.timedelta(seconds=rng.randint(20, 90)), resolved, True))
    else:
        mtta = datetime.timedelta(minutes=rng.lognormvariate(math.log(MTTA_MEDIAN_MINUTES[severity]), 0.6))
        acknowledged = _seconds(detected + min(mtta, duration * 0.4))
        work = resolved - acknowledged
        phases += [
            (Phase.GATHER, acknowledged),
            (Phase.TRIAGE, _seconds(acknowledged + work * 0.2)),
            (Phase.MITIGATE, _seconds(acknowledged + work * 0.6)),
        ]
        etas = [("initial-update", detected + datetime.timedelta(minutes=15 if severity == Severity.P1 else 30))]
        if severity in (Severity.P1, Severity.P2):
            etas.append(("status-update", detected + duration * 0.5 + datetime.timedelta(minutes=15)))
        etas.append(("resolution-summary", resolved + datetime.timedelta(hours=2)))
        for name, eta in etas:
            if rng.random() < MILESTONE_ON_TIME_SHARE:
                delivered = eta - datetime.timedelta(seconds=rng.randint(0, 600))
            else:
                delivered = eta + datetime.timedelta(seconds=rng.randint(120, 2700))
            milestones.append((name, _seconds(eta), _seconds(delivered)))
        low, high = SURVEY_RESPONDENTS[severity]
        for respondent in range(rng.randint(low, high)):
            submitted = _seconds(resolved + datetime.timedelta(hours=rng.uniform(1, 24)))
            surveys.append((f"stakeholder-{respondent + 1}@{slug}.example", _weighted(rng, SURVEY_SCORES), submitted))
        if signature.runbook_id and rng.random() < FAILED_RUNBOOK_SHARE:
            ran = detected + datetime.timedelta(seconds=rng.randint(20, 90))
            runbook_runs.append((signature.runbook_id, ran, ran + datetime.timedelta(minutes=2), False))
    phases.append((Phase.RESOLVED, resolved))
    # An incident still running at the end of the period is left open or acknowledged, as it is now.
    if resolved > end:
        resolved = None
        phases = [(phase, at) for phase, at in phases if at <= end]
        milestones = [(name, eta, delivered if delivered <= end else None) for name, eta, delivered in milestones]
        surveys, runbook_runs = [], [run for run in runbook_runs if not run[3]]
    status = IncidentStatus.RESOLVED if resolved else IncidentStatus.ACKNOWLEDGED if acknowledged and acknowledged <= end else IncidentStatus.OPEN
    row = (
        demo.company.pk, service.pk, external_id, f"{signature.label} on {asset}", severity, status, detected,
        acknowledged if status != IncidentStatus.OPEN else None, resolved, automated and resolved is not None,
        signature.runbook_id if automated else "",
    )
    return IncidentSpec(row, external_id, phases, milestones, surveys, runbook_runs)


def _specs(demo, seed, start, end):
    return (_incident_spec(demo, seed, number, start, end) for number in range(demo.incidents))


def _bar(rows, total, description, progress):
    """Wrap `rows` in a progress bar, shown only when asked and stderr is a terminal."""
    return tqdm(rows, total=total, desc=description, unit=" rows", disable=not (progress and sys.stderr.isatty()))


def _seed_company(demo, seed, start, end, summary, progress):
    slug = demo.company.slug
    # What hangs off an incident: (rows label, model, fields, the rows of a spec given its incident's id).
    children = [
        ("phases", PhaseTransition, ["incident", "phase", "entered_at"], lambda incident, spec: [(incident, phase, at) for phase, at in spec.phases]),
        ("milestones", Milestone, ["incident", "name", "committed_eta", "delivered_at"], lambda incident, spec: [(incident, *milestone) for milestone in spec.milestones]),
        ("survey responses", SurveyResponse, ["incident", "respondent", "score", "submitted_at"], lambda incident, spec: [(incident, *survey) for survey in spec.surveys]),
        (
            "runbook executions", RunbookExecution,
            ["company", "incident", "runbook_id", "execution_id", "started_at", "finished_at", "success"],
            lambda incident, spec: [
                (demo.company.pk, incident, runbook, f"exec-{slug}-{spec.external_id}-{attempt}", started, finished, success)
                for attempt, (runbook, started, finished, success) in enumerate(spec.runbook_runs, 1)
            ],
        ),
    ]
    with transaction.atomic():
        for label in ["incidents", *(label for label, *_ in children)]:
            summary.rows[f"{slug} {label}"] = 0
        specs = iter(_bar(_specs(demo, seed, start, end), demo.incidents, f"{slug} incidents", progress))
        for chunk in iter(lambda: list(islice(specs, INCIDENT_CHUNK)), []):
            summary.rows[f"{slug} incidents"] += insert_rows(Incident, INCIDENT_FIELDS, (spec.row for spec in chunk))
            ids = dict(
                Incident.objects.filter(company=demo.company, external_id__in=[spec.external_id for spec in chunk]).values_list("external_id", "id")
            )
            for label, model, fields, rows_of in children:
                summary.rows[f"{slug} {label}"] += insert_rows(model, fields, (row for spec in chunk for row in rows_of(ids[spec.external_id], spec)))
        summary.rows[f"{slug} patch snapshots"] = insert_rows(
            PatchComplianceSnapshot,
            ["company", "scanned_at", "total_instances", "compliant_instances", "non_compliant_instances", "critical_patches_missing"],
            _patch_snapshots(demo, seed, start, end),
        )
    with transaction.atomic():
        summary.rows[f"{slug} alerts"] = insert_rows(
            Alert,
            ["company", "service", "asset", "signature", "severity", "issued_at", "source", "external_id", "payload"],
            _bar(_alerts(demo, seed, start, end), demo.alerts, f"{slug} alerts", progress),
        )


def sent_alerts(slug, start, end, *, alerts_per_day, seed=42):
    """
    More raw alerts of the demo company `slug`, issued in [start, end) at `alerts_per_day` on the assets of its demo
    history, as a source posts them to /api/alerts/: dicts in the order issued, the service by slug, external ids
    "sent-N" that no seeded alert has. One call holds its alerts in memory: ask for a day at a time.
    """
    days = (end - start) / datetime.timedelta(days=1)
    # The demo history's number of assets per service follows its alerts per day: these land on the same ones.
    demo = _create_company(slug, slug, 1, 0, alerts_per_day)
    demo.alerts = round(alerts_per_day * days)
    services_by_id = {service.pk: service.slug for service in demo.services}
    fields = ("company", "service", "asset", "signature", "severity", "issued_at", "source", "external_id", "payload")
    for row in sorted(_alerts(demo, f"{seed}:sent", start, end, prefix="sent"), key=lambda row: row[5]):
        alert = dict(zip(fields, row))
        yield {**alert, "company": slug, "service": services_by_id[alert["service"]], "issued_at": alert["issued_at"].isoformat()}


def _patch_snapshots(demo, seed, start, end):
    """One Patch Manager scan a day at 06:00 UTC; compliance drifts between about 85 and 95 %."""
    rng = random.Random(f"{seed}:{demo.company.slug}:patches")
    instances = rng.randint(40, 120)
    compliance = rng.uniform(0.87, 0.93)
    day = start
    while day < end:
        instances = max(20, instances + rng.randint(-2, 2))
        compliance = min(0.97, max(0.82, 0.9 + 0.7 * (compliance - 0.9) + rng.gauss(0, 0.015)))
        compliant = round(instances * compliance)
        non_compliant = instances - compliant
        yield (demo.company.pk, day + datetime.timedelta(hours=6), instances, compliant, non_compliant, rng.randint(0, 2 * non_compliant))
        day += datetime.timedelta(days=1)


def _alerts(demo, seed, start, end, prefix="demo"):
    """The company's raw alerts, in bursts of one asset and signature a few minutes apart, left uncorrelated."""
    rng = random.Random(f"{seed}:{demo.company.slug}:alerts")
    span = (end - start).total_seconds()
    made = 0
    while made < demo.alerts:
        service = rng.choice(demo.services)
        asset = rng.choice(demo.assets[service.pk])
        signature = rng.choice(SIGNATURES)
        severity = _weighted(rng, ALERT_SEVERITY_MIX)
        source = _weighted(rng, ALERT_SOURCES)
        issued = _seconds(start + datetime.timedelta(seconds=rng.random() * span))
        for _ in range(min(_weighted(rng, BURST_SIZES), demo.alerts - made)):
            if issued >= end:
                break
            made += 1
            yield (
                demo.company.pk, service.pk, asset, signature.name, severity, issued, source, f"{prefix}-{made:08d}",
                {"labels": {"alertname": signature.name, "instance": asset, "service": service.slug}, "summary": f"{signature.label} on {asset}"},
            )
            issued += datetime.timedelta(seconds=rng.randint(*BURST_GAP_SECONDS))


def _seed_observations(demo_companies, seed, start, days, summary, progress):
    """Daily demo observations of the KPIs no connector feeds, for those the registry defines."""
    definitions = KpiDefinition.objects.in_bulk(MEASURED_KPIS, field_name="slug")
    usable = {}
    for slug in MEASURED_KPIS:
        kpi = definitions.get(slug)
        if kpi is None:
            summary.notes.append(f"No demo observations for '{slug}': it is not in the KPI registry (run `kpi load-catalogue`).")
        elif kpi.target is None or kpi.critical_threshold is None:
            summary.notes.append(f"No demo observations for '{slug}': it has no target and critical threshold to place values.")
        else:
            usable[slug] = kpi

    def series():
        for demo in demo_companies:
            for slug, kpi in usable.items():
                yield from _daily_observations(kpi, demo.company, f"{seed}:{demo.company.slug}:{slug}", start, days)

    summary.rows["demo observations"] = record_observations(
        _bar(series(), days * len(demo_companies) * len(usable), "observations", progress),
        source=ObservationSource.DEMO,
        run="seed_demo",
    )


def _daily_observations(kpi, company, series_seed, start, days):
    """The company's observation of `kpi` at 00:00 UTC of each day, as ingestion takes them."""
    values = wandering_values(kpi, random.Random(series_seed), days)
    for day, value in enumerate(values):
        yield {
            "kpi": kpi.slug,
            "company": company.pk,
            "observed_at": start + datetime.timedelta(days=day),
            "value": float(round(value)) if kpi.units in WHOLE_NUMBER_UNITS else round(value, 2),
        }
