"""
Patch compliance (the methodology's "Pull from Patch Manager"), computed from patch scans, one value per company and
UTC day (registered in kpis.calculators' registry), and its proof section of /api/metrics/kpis/.

A company's patch scans are its uploaded describe_instance_patch_states answers (PatchScan, one row per instance)
and, for the time before its first such upload, the summaries typed into the admin (incidents.PatchComplianceSnapshot).
Once a company sends per-instance states they alone give its compliance, so one source never jumps to the other.

As the methodology's script counts: an instance is compliant when its MissingCount and FailedCount are both 0;
critical patches missing are the CriticalNonCompliantCount of the non-compliant instances; compliance % is
compliant / all instances of the scan x 100. A day's value is its latest scan's.
"""
import datetime

from django.db import connection
from django.db.models import BigIntegerField, Count, DateTimeField, Exists, F, IntegerField, Max, OuterRef, Q, Sum, Value
from django.db.models.functions import Coalesce, TruncDay

from companyos.api.dates import EARLIEST
from incidents.models import PatchComplianceSnapshot
from kpis.calculators import DAY, ROLLING_WINDOW, RowsSQL, calculator, computed_from, evidence
from kpis.calculators.toolkit import company_filter, from_db, percent_sql
from kpis.proof import age_of, proof_section

from .models import InstancePatchState, PatchScan

computed_from(
    __name__,
    "patch scans: upload ssm describe_instance_patch_states answers to /api/patch-states/?company= (or type a "
    "scan's summary in the admin's Patch compliance snapshots)",
)

# Where a scan comes from: an uploaded answer with its instances, or a summary typed into the admin.
INSTANCES, SUMMARY = "instance_patch_states", "summary"
# The days of the proof's compliance trend, ending with the period.
TREND = ROLLING_WINDOW
SCAN_COLUMNS = (
    "obs_company", "obs_day", "scan_id", "source", "scanned_at", "total_instances", "compliant_instances",
    "critical_patches_missing",
)

_non_compliant = Q(missing_count__gt=0) | Q(failed_count__gt=0)


def _utc_day(field):
    return TruncDay(field, tzinfo=datetime.timezone.utc)


def _instance_scans(start, end, company_id):
    """Uploaded scans in [start, end) with their instances counted."""
    non_compliant = Q(instances__missing_count__gt=0) | Q(instances__failed_count__gt=0)
    return (
        PatchScan.objects.filter(company_filter(company_id), scanned_at__gte=start, scanned_at__lt=end)
        .order_by()
        .values("scanned_at", obs_company=F("company_id"), obs_day=_utc_day("scanned_at"), scan_id=F("id"))
        .annotate(
            source=Value(INSTANCES),
            total_instances=Count("instances"),
            compliant_instances=Count("instances", filter=~non_compliant),
            critical_patches_missing=Coalesce(
                Sum("instances__critical_non_compliant_count", filter=non_compliant), 0, output_field=IntegerField()
            ),
        )
    )


def _summary_scans(start, end, company_id):
    """Typed summaries in [start, end) of companies that had sent no per-instance scan by then."""
    uploaded_by_then = PatchScan.objects.filter(company=OuterRef("company_id"), scanned_at__lte=OuterRef("scanned_at"))
    return (
        PatchComplianceSnapshot.objects.filter(company_filter(company_id), scanned_at__gte=start, scanned_at__lt=end)
        .exclude(Exists(uploaded_by_then))
        .order_by()
        .values("scanned_at", "total_instances", "compliant_instances", "critical_patches_missing",
                obs_company=F("company_id"), obs_day=_utc_day("scanned_at"), scan_id=F("id"))
        .annotate(source=Value(SUMMARY))
    )


def latest_scans(start, end, company_id=None, *, each_day=False):
    """
    RowsSQL of each company's latest patch scan in [start, end) (of each UTC day, `each_day`), of either source: the
    columns of SCAN_COLUMNS and `compliance_pct`.
    """
    columns = ", ".join(SCAN_COLUMNS)
    parts = [queryset.query.sql_with_params() for queryset in (_instance_scans(start, end, company_id), _summary_scans(start, end, company_id))]
    union = " UNION ALL ".join(f"SELECT {columns} FROM ({sql}) AS scans" for sql, _ in parts)
    partition = "obs_company, obs_day" if each_day else "obs_company"
    sql = f"""
        SELECT {columns}, {percent_sql("compliant_instances", "total_instances")} AS compliance_pct FROM (
            SELECT scans.*, ROW_NUMBER() OVER (PARTITION BY {partition} ORDER BY scanned_at DESC, scan_id DESC) AS recency
            FROM ({union}) AS scans
        ) AS ranked
        WHERE recency = 1
    """
    return RowsSQL(sql, [param for _, params in parts for param in params])


def _scan_rows(rows):
    """The rows of latest_scans as dicts, times as the ORM reads them."""
    with connection.cursor() as cursor:
        cursor.execute(rows.sql, rows.params)
        names = [column[0] for column in cursor.description]
        found = [dict(zip(names, row)) for row in cursor.fetchall()]
    for row in found:
        for name in ("obs_day", "scanned_at"):
            row[name] = from_db(row[name], DateTimeField())
    return sorted(found, key=lambda row: row["scanned_at"])


@calculator("patch-compliance", grain=DAY, many_days=True)
def patch_compliance_rows(period, company_id=None):
    """Compliant / all instances * 100 of the company's latest patch scan of each day."""
    scans = latest_scans(period.start, period.end, company_id, each_day=True)
    null_id = f"CAST(NULL AS {BigIntegerField().cast_db_type(connection)})"
    sql = f"""
        SELECT obs_company, {null_id} AS obs_domain, {null_id} AS obs_service, {null_id} AS obs_incident,
               obs_day AS obs_observed_at, compliance_pct AS obs_value, 1.0 AS obs_confidence
        FROM ({scans.sql}) AS latest
    """
    return RowsSQL(sql, scans.params)


def _figures(scan):
    return {
        "scanned_at": scan["scanned_at"],
        "total_instances": scan["total_instances"],
        "compliant_instances": scan["compliant_instances"],
        "non_compliant_instances": scan["total_instances"] - scan["compliant_instances"],
        "critical_patches_missing": scan["critical_patches_missing"],
        "compliance_pct": scan["compliance_pct"],
    }


@evidence("patch-compliance")
def patch_compliance_evidence(company, start, end):
    """The latest patch scan of `company` in [start, end) with its compliance; None without a scan."""
    scans = _scan_rows(latest_scans(start, end, company.pk))
    return _figures(scans[-1]) if scans else None


def _instance_figures(scan_id, end):
    """The non-compliant instances of an uploaded scan, most critical first, and the age of its results by patch group."""
    instances = InstancePatchState.objects.filter(scan_id=scan_id)
    non_compliant = [
        {**row, "operation_end_time": row["operation_end_time"].isoformat()}
        for row in instances.filter(_non_compliant)
        .order_by("-critical_non_compliant_count", "-missing_count", "instance_id")
        .values("instance_id", "patch_group", "missing_count", "failed_count", "critical_non_compliant_count", "operation_end_time")
    ]
    groups = [
        {
            "patch_group": group["patch_group"],
            "instances": group["instances"],
            "newest_operation_end_time": group["newest"].isoformat(),
            "age_of_results": age_of(group["newest"], end),
        }
        for group in instances.order_by().values("patch_group").annotate(instances=Count("id"), newest=Max("operation_end_time")).order_by("patch_group")
    ]
    return {"non_compliant": non_compliant, "age_by_patch_group": groups}


@proof_section("patch-compliance")
def patch_compliance_proof(company, start, end):
    """
    The latest patch scan up to `end` (`within_period` says whether it is in [start, end): a period with no scan of
    its own shows the one before with its age, not nothing), its non-compliant instances with their critical patches
    missing and the age of its results by patch group (uploaded scans), and the compliance of the latest scan of each
    day of the 30 days ending with `end`. None when the company has no scan before `end`.
    """
    latest = _scan_rows(latest_scans(EARLIEST, end, company.pk))
    if not latest:
        return None
    scan = latest[-1]
    figures = _figures(scan)
    trend = _scan_rows(latest_scans(end - TREND, end, company.pk, each_day=True))
    return {
        "compliance_pct": None if figures["compliance_pct"] is None else round(figures["compliance_pct"], 1),
        "compliant_instances": figures["compliant_instances"],
        "non_compliant_instances": figures["non_compliant_instances"],
        "total_instances": figures["total_instances"],
        "critical_patches_missing": figures["critical_patches_missing"],
        "age_of_results": age_of(scan["scanned_at"], end),
        "last_scan_time": scan["scanned_at"].isoformat(),
        "within_period": scan["scanned_at"] >= start,
        "source": scan["source"],
        **(_instance_figures(scan["scan_id"], end) if scan["source"] == INSTANCES else {"non_compliant": [], "age_by_patch_group": []}),
        "trend_30d": [
            {
                "day": day["obs_day"].date().isoformat(),
                "compliance_pct": None if day["compliance_pct"] is None else round(day["compliance_pct"], 1),
                "compliant_instances": day["compliant_instances"],
                "total_instances": day["total_instances"],
            }
            for day in trend
        ],
    }
