"""
The alert-methodology proof payload (`GET /api/metrics/kpis/`): noise reduction, MTTR reduction,
self-healed share and patch compliance of one company over a period, with the evidence behind each,
computed by the calculators' own evidence functions so it always agrees with the stored observations.
"""
import datetime

from django.db.models import F

from incidents.models import Alert, CorrelationConfig, Incident

from .calculators.incident_kpis import (
    mttr_reduction_evidence,
    noise_reduction_evidence,
    patch_compliance_evidence,
    self_healed_evidence,
)
from .calculators.toolkit import MinutesBetween
from .models import KpiDefinition

TIME_RANGES = {
    "24h": datetime.timedelta(hours=24),
    "7d": datetime.timedelta(days=7),
    "30d": datetime.timedelta(days=30),
    "90d": datetime.timedelta(days=90),
}

DATA_SOURCES = [
    "CompanyOS: alerts, incidents, runbook executions",
    "Patch compliance scans (AWS Systems Manager Patch Manager summary)",
]


def _rounded(value, places=1):
    return None if value is None else round(value, places)


def _target_status(value, kpi):
    if kpi is None or kpi.target is None or value is None:
        return {}
    return {"target": kpi.target, "status": "on_target" if value >= kpi.target else "below_target"}


def _age(moment, now):
    hours = int((now - moment).total_seconds() // 3600)
    return f"{hours} hours" if hours != 1 else "1 hour"


def kpi_metrics(company, *, time_range, end, visible_slugs):
    """The seed's payload, field for field, for `company` over the `time_range` ending at `end`."""
    start = end - TIME_RANGES[time_range]
    definitions = {kpi.slug: kpi for kpi in KpiDefinition.objects.filter(slug__in=visible_slugs)}
    kpis = {}
    if "noise-reduction" in definitions:
        noise = noise_reduction_evidence(company, start, end) or {"raw_alerts": 0, "incidents_created": 0, "noise_reduction_pct": None}
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
        mttr = mttr_reduction_evidence(company, start, end) or {}
        kpis["mttr_reduction"] = {
            "value": _rounded(mttr.get("mttr_reduction_pct")),
            "manual_mttr_minutes": _rounded(mttr.get("manual_mttr_minutes")),
            "automated_mttr_minutes": _rounded(mttr.get("automated_mttr_minutes")),
            "sample_size": {"manual": mttr.get("manual_incidents", 0), "automated": mttr.get("automated_incidents", 0)},
            **_target_status(mttr.get("mttr_reduction_pct"), definitions["mttr-reduction"]),
        }
    if "self-healed" in definitions:
        healed = self_healed_evidence(company, start, end) or {}
        kpis["self_healed"] = {
            "value": _rounded(healed.get("self_healed_pct")),
            "automated_incidents": healed.get("automated_incidents", 0),
            "total_incidents": healed.get("total_incidents", 0),
            "runbooks_used": [
                {"id": runbook["runbook_id"], "executions": runbook["executions"]}
                for runbook in healed.get("runbooks_used", [])
            ],
        }
    if "patch-compliance" in definitions:
        patch = patch_compliance_evidence(company, start, end)
        kpis["patch_compliance"] = None if patch is None else {
            "compliance_pct": _rounded(patch["compliance_pct"]),
            "compliant_instances": patch["compliant_instances"],
            "total_instances": patch["total_instances"],
            "critical_patches_missing": patch["critical_patches_missing"],
            "age_of_results": _age(patch["scanned_at"], end),
            "last_scan_time": patch["scanned_at"].isoformat(),
        }
    return {
        "company_id": company.slug,
        "measurement_period": {"start": start.isoformat(), "end": end.isoformat(), "range": time_range},
        "kpis": kpis,
        "data_sources": DATA_SOURCES,
        "generated_at": datetime.datetime.now(datetime.timezone.utc).isoformat(),
    }


EVIDENCE_COLUMNS = [
    "record", "id", "external_id", "time", "asset", "signature", "severity", "incident_id",
    "detected_at", "resolved_at", "resolution_minutes", "automation_used", "runbook_id",
]


def evidence_rows(company, *, time_range, end):
    """
    The rows behind the payload, for verification: every alert counted by noise reduction (with the
    incident correlation put it in) and every resolved incident counted by MTTR reduction and
    self-healing. Streamed from the database; a dict per row with the keys of EVIDENCE_COLUMNS.
    """
    start = end - TIME_RANGES[time_range]
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
