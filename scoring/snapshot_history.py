"""
Stored snapshots are history: a day is recomputed only from as much data as it had.

A snapshot records what it used (`inputs`: the definition history id of each KPI, the weights history id, the
observations counted per KPI). Retention prunes raw observations only once their bucket is rolled up, so a day
whose rollups count more observations of a KPI than are left raw has lost its raw data: recomputing it would
score less data, so it is not recomputed (its stored snapshots stay) and the refusal names the day, the KPIs
and their retention rule.
"""
from django.db.models import Sum

from kpis.choices import RetentionClass

from .models import ObservationRollup


def pruned_inputs(company, day, start, end, company_snapshot, versions):
    """
    Why `company`'s day [start, end) cannot be recomputed, or "" when it can: the KPIs of `versions` whose raw
    observations retention pruned, by the rollups of the day against `company_snapshot` (the company-level
    snapshot just built, which counts every observation of the company).
    """
    rolled_up = (
        ObservationRollup.objects.filter(company=company, bucket_start__gte=start, bucket_start__lt=end, kpi_id__in=versions)
        .values("kpi_id")
        .annotate(total=Sum("count"))
        .order_by("kpi_id")
    )
    pruned = []
    for row in rolled_up:
        definition = versions[row["kpi_id"]].definition
        left = company_snapshot.kpis.get(definition.slug, {}).get("observations", 0)
        if row["total"] > left:
            rule = RetentionClass(definition.retention_class).label
            pruned.append(f"{definition.slug}: {left} of {row['total']} observations left raw, retention rule {rule}")
    if not pruned:
        return ""
    return f"retention pruned raw observations of {day} ({'; '.join(pruned)})"


def replacement_reasons(stored, computed):
    """
    What differs between a stored company-level snapshot and the one replacing it: the weights version, the
    definitions' versions and the observations counted per KPI ("same inputs" when nothing does).
    """
    old, new = stored.inputs, computed.inputs
    reasons = []
    if old.get("weights_history_id") != new.get("weights_history_id"):
        reasons.append(f"weights version #{old.get('weights_history_id')} -> #{new.get('weights_history_id')}")
    old_versions, new_versions = old.get("definitions", {}), new.get("definitions", {})
    definitions = [
        f"{slug} #{old_versions.get(slug, '-')} -> #{new_versions.get(slug, '-')}"
        for slug in sorted(set(old_versions) | set(new_versions))
        if old_versions.get(slug) != new_versions.get(slug)
    ]
    if definitions:
        reasons.append(f"definition versions {', '.join(definitions)}")
    counts = [
        f"{slug} {_count(stored, slug)} -> {_count(computed, slug)}"
        for slug in sorted(set(stored.kpis) | set(computed.kpis))
        if _count(stored, slug) != _count(computed, slug)
    ]
    if counts:
        reasons.append(f"observations counted {', '.join(counts)}")
    return "; ".join(reasons) or "same inputs"


def _count(snapshot, slug):
    return snapshot.kpis.get(slug, {}).get("observations", 0)
