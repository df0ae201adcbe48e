"""
The alert-methodology proof payload (`GET /api/metrics/kpis/`): noise reduction, MTTR reduction,
self-healed share and patch compliance of one company over a period, with the evidence behind each,
computed by the calculators' own statements (over the stored daily totals of the period's whole days and the rows
of its partial ones, kpis.daily_totals) so it always agrees with the stored observations.
"""
import datetime

from django.db.models import F
from django.utils import timezone

from incidents.models import Alert, CorrelationConfig, Incident

from . import daily_totals
from .calculators.runbooks import total_time_saved
from .calculators.toolkit import MinutesBetween
from .models import KpiDefinition

DATA_SOURCES = [
    "CompanyOS: alerts, incidents, runbook executions",
    "AWS Systems Manager Patch Manager: instance patch states (describe_instance_patch_states), else scan summaries",
]

# The proof sections of methodology KPIs whose data lives in a higher layer (the patch states, in security), by slug:
# section(company, start, end) -> dict or None, registered by the app holding the data with @proof_section.
PROOF_SECTIONS = {}


def proof_section(slug):
    """Register the decorated `section(company, start, end)` as the proof of the methodology KPI `slug`."""

    def register(section):
        if slug in PROOF_SECTIONS:
            raise ValueError(f"The KPI '{slug}' already has a proof section.")
        PROOF_SECTIONS[slug] = section
        return section

    return register


def _rounded(value, places=1):
    return None if value is None else round(value, places)


def _target_status(value, kpi):
    """The value against the target in force today (a dated schedule may have moved it)."""
    target = kpi.thresholds_on(timezone.localdate())[0] if kpi is not None else None
    if target is None or value is None:
        return {}
    return {"target": target, "status": "on_target" if value >= target else "below_target"}


def age_of(moment, now):
    """How long before `now` `moment` was, in whole hours, as the methodology writes it ("2 hours")."""
    hours = int((now - moment).total_seconds() // 3600)
    return f"{hours} hours" if hours != 1 else "1 hour"


def kpi_metrics(company, *, period, visible_slugs):
    """The seed's payload, field for field, for `company` over `period` (companyos.api.dates.Period)."""
    start, end = period.start, period.end
    return {
        "company_id": company.slug,
        "measurement_period": {"start": start.isoformat(), "end": end.isoformat(), "range": period.label},
        "kpis": methodology_kpis(company, start=start, end=end, visible_slugs=visible_slugs),
        "data_sources": DATA_SOURCES,
        "generated_at": datetime.datetime.now(datetime.timezone.utc).isoformat(),
    }


def methodology_kpis(company, *, start, end, visible_slugs, read_figures=daily_totals.proof_figures):
    """
    The payload's "kpis" of `company` over [start, end): each methodology KPI among `visible_slugs` with its proof,
    from `read_figures(company, start, end)` (daily_totals.ProofFigures: by default from the stored daily totals).
    """
    definitions = {kpi.slug: kpi for kpi in KpiDefinition.objects.filter(slug__in=visible_slugs)}
    shown = definitions.keys() & {"noise-reduction", "mttr-reduction", "self-healed"}
    figures = read_figures(company, start, end) if shown else None
    resolved = (figures.resolved or {}) if figures else {}
    kpis = {}
    if "noise-reduction" in definitions:
        noise = figures.noise or {"raw_alerts": 0, "incidents_created": 0, "noise_reduction_pct": None}
        config = CorrelationConfig.objects.filter(company=company).first() or CorrelationConfig()
        kpis["noise_reduction"] = {
            "value": _rounded(noise["noise_reduction_pct"]),
            "raw_alerts": noise["raw_alerts"],
            "incidents_created": noise["incidents_created"],
            **_target_status(noise["noise_reduction_pct"], definitions["noise-reduction"]),
            "correlation_config": {
                "time_window_minutes": config.time_window_minutes,
                "aggregation_key": config.aggregation_key,
                "auto_correlate": config.auto_correlate,
            },
        }
    if "mttr-reduction" in definitions:
        kpis["mttr_reduction"] = {
            "value": _rounded(resolved.get("mttr_reduction_pct")),
            "manual_mttr_minutes": _rounded(resolved.get("manual_mttr_minutes")),
            "automated_mttr_minutes": _rounded(resolved.get("automated_mttr_minutes")),
            "sample_size": {"manual": resolved.get("manual_incidents", 0), "automated": resolved.get("automated_incidents", 0)},
            **{name: _rounded(median) for name, median in figures.medians.items()},
            **_target_status(resolved.get("mttr_reduction_pct"), definitions["mttr-reduction"]),
        }
    if "self-healed" in definitions:
        table = figures.runbook_table
        kpis["self_healed"] = {
            "value": _rounded(resolved.get("self_healed_pct")),
            "automated_incidents": resolved.get("automated_incidents", 0),
            "total_incidents": resolved.get("total_incidents", 0),
            # The runbooks executed in the period, most used first: the table's runbooks, in its order.
            "runbooks_used": [{"id": row["runbook_id"], "executions": row["executions"]} for row in table] if resolved else [],
            "runbook_table": table,
            "total_time_saved_minutes": total_time_saved(table),
        }
    if "patch-compliance" in definitions:
        section = PROOF_SECTIONS.get("patch-compliance")
        kpis["patch_compliance"] = section(company, start, end) if section else None
    return kpis


EVIDENCE_COLUMNS = [
    "record", "id", "external_id", "time", "asset", "signature", "severity", "incident_id",
    "detected_at", "resolved_at", "resolution_minutes", "automation_used", "runbook_id",
]


def evidence_rows(company, *, period):
    """
    The rows behind the payload, for verification: every alert counted by noise reduction (with the
    incident correlation put it in) and every resolved incident counted by MTTR reduction and
    self-healing. Streamed from the database; a dict per row with the keys of EVIDENCE_COLUMNS.
    """
    start, end = period.start, period.end
    alerts = (
        Alert.objects.filter(company=company, issued_at__gte=start, issued_at__lt=end)
        .order_by("issued_at", "id")
        .values("id", "external_id", "issued_at", "asset", "signature", "severity", "incident_id")
    )
    for alert in alerts.iterator(chunk_size=5000):
        yield {"record": "alert", "time": alert.pop("issued_at"), **alert}
    incidents = (
        Incident.objects.filter(company=company, resolved_at__gte=start, resolved_at__lt=end)
        .order_by("resolved_at", "id")
        .annotate(resolution_minutes=MinutesBetween(F("resolved_at"), F("detected_at")))
        .values("id", "external_id", "severity", "detected_at", "resolved_at", "resolution_minutes", "automation_used", "runbook_id")
    )
    for incident in incidents.iterator(chunk_size=5000):
        yield {"record": "incident", "time": incident["resolved_at"], **incident}
