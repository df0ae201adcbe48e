"""
Retention, per the health model's table: raw observations are rolled up into hourly (service metrics) or daily
buckets and pruned once past their raw retention; rollups are kept for the aggregated retention.

The rollup is one INSERT ... SELECT ... GROUP BY ... ON CONFLICT DO UPDATE per retention class, recomputing
the buckets within raw retention and adding any older bucket not rolled up yet, so running it twice changes
nothing. Pruning deletes only whole
buckets (the cutoff is aligned to the bucket), only observations whose bucket is in the rollup, and never an
observation that is the evidence of a breach. Snapshots keep their observation ids; once pruned, the rollup
bucket of the same KPI, scope and day is the evidence (`snapshot_evidence`), and the day is not recomputed from
what is left (scoring.snapshot_history).

On PostgreSQL observations and alerts are partitioned by month (companyos.partitions), and a whole month goes at
once, its partition detached and dropped: a month of observations once it is past every class's raw retention,
all rolled up and none a breach's evidence (a month holding evidence is pruned row by row, as on SQLite); a month
of alerts once past ALERT_RETENTION_DAYS, if the methodology's daily totals (kpis.DailyTotalsDay) cover every
day of it a company had alerts on -- on SQLite the same rows are deleted. Incidents stay: nothing points to an
alert.
"""
import datetime
from dataclasses import dataclass

from django.conf import settings
from django.db import connection, transaction
from django.db.models import CharField, Count, Exists, Max, Min, OuterRef, Q, Sum, Value
from django.db.models.functions import Cast, Coalesce, Concat, TruncDate, TruncDay, TruncHour

from companyos.partitions import month_bounds, month_start
from incidents.models import Alert
from incidents.partitions import ALERT_MONTHS
from kpis.choices import RetentionClass
from kpis.models import DailyTotalsDay, Observation
from kpis.partitions import OBSERVATION_MONTHS

from .choices import RollupBucket, ScopeLevel
from .models import ObservationRollup
from .services import day_bounds

DAY = datetime.timedelta(days=1)
YEAR = datetime.timedelta(days=365)


@dataclass(frozen=True)
class RetentionPolicy:
    raw: datetime.timedelta
    bucket: str
    rollup: datetime.timedelta


POLICIES = {
    RetentionClass.SERVICE: RetentionPolicy(15 * DAY, RollupBucket.HOUR, 2 * YEAR),
    RetentionClass.BUSINESS: RetentionPolicy(30 * DAY, RollupBucket.DAY, 5 * YEAR),
    RetentionClass.SECURITY: RetentionPolicy(90 * DAY, RollupBucket.DAY, 7 * YEAR),
    RetentionClass.FINANCIAL: RetentionPolicy(30 * DAY, RollupBucket.DAY, 7 * YEAR),
}
TRUNCATE = {RollupBucket.HOUR: TruncHour, RollupBucket.DAY: TruncDay}


def _scope_key():
    """'company:domain:service' with 0 for an empty scope, as ObservationRollup.scope_key."""
    def part(name):
        return Cast(Coalesce(name, Value(0)), CharField())

    return Concat(part("company_id"), Value(":"), part("domain_id"), Value(":"), part("service_id"), output_field=CharField())


def _bucket_start(bucket, field="observed_at"):
    return TRUNCATE[bucket](field, tzinfo=datetime.timezone.utc)


ROLLUP_COLUMNS = ["kpi_id", "company_id", "domain_id", "service_id", "scope_key", "bucket", "bucket_start", "count", "sum", "min", "max"]


def _bucketed(retention_class, bucket):
    """The raw observations of `retention_class`, each with its rollup scope key and bucket start."""
    return Observation.objects.filter(kpi__retention_class=retention_class).annotate(
        rollup_scope_key=_scope_key(), rollup_bucket_start=_bucket_start(bucket)
    )


def _in_rollup(bucket):
    """Exists: the outer observation's bucket is already in the rollup."""
    return Exists(
        ObservationRollup.objects.filter(
            kpi_id=OuterRef("kpi_id"),
            scope_key=OuterRef("rollup_scope_key"),
            bucket=bucket,
            bucket_start=OuterRef("rollup_bucket_start"),
        )
    )


def raw_cutoff(retention_class, now):
    """Raw observations before this are past their retention; aligned to the bucket so buckets go whole."""
    policy = POLICIES[retention_class]
    return _truncate_datetime(now - policy.raw, policy.bucket)


def roll_up(retention_class, now):
    """
    Upsert the rollup buckets of `retention_class`. Returns the buckets written.

    Buckets within the raw retention are recomputed from their (complete) raw rows; a bucket past it is only
    added when missing, because what is left of it raw (a breach's evidence) is no longer the whole bucket.
    """
    bucket = POLICIES[retention_class].bucket
    select = (
        _bucketed(retention_class, bucket)
        .filter(Q(observed_at__gte=raw_cutoff(retention_class, now)) | ~_in_rollup(bucket))
        .annotate(rollup_bucket=Value(bucket))
        .values("kpi_id", "company_id", "domain_id", "service_id", "rollup_scope_key", "rollup_bucket", "rollup_bucket_start")
        .annotate(rollup_count=Count("id"), rollup_sum=Sum("value"), rollup_min=Min("value"), rollup_max=Max("value"))
        .order_by()
    )
    select_sql, params = select.query.sql_with_params()
    table = connection.ops.quote_name(ObservationRollup._meta.db_table)
    columns = ", ".join(connection.ops.quote_name(column) for column in ROLLUP_COLUMNS)
    updates = ", ".join(f"{connection.ops.quote_name(c)} = excluded.{connection.ops.quote_name(c)}" for c in ("count", "sum", "min", "max"))
    # "WHERE true" lets SQLite parse ON CONFLICT after a SELECT (its documented upsert ambiguity).
    sql = (
        f"INSERT INTO {table} ({columns}) SELECT * FROM ({select_sql}) AS buckets WHERE true "
        f"ON CONFLICT (kpi_id, scope_key, bucket, bucket_start) DO UPDATE SET {updates}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


def prune(retention_class, now):
    """
    Delete the raw observations of `retention_class` older than its raw retention whose bucket is rolled up and
    which are no breach's evidence; then the rollups older than the aggregated retention. Returns what was deleted.
    """
    policy = POLICIES[retention_class]
    expired = (
        _bucketed(retention_class, policy.bucket)
        .filter(observed_at__lt=raw_cutoff(retention_class, now))
        .filter(_in_rollup(policy.bucket))
        .exclude(Exists(Observation.breaches.through.objects.filter(observation_id=OuterRef("pk"))))
    )
    observations, _ = Observation.objects.filter(pk__in=expired.values("pk")).delete()
    rollups, _ = ObservationRollup.objects.filter(
        kpi__retention_class=retention_class, bucket_start__lt=now - policy.rollup
    ).delete()
    return {"observations": observations, "rollups": rollups}


def _truncate_datetime(moment, bucket):
    moment = moment.astimezone(datetime.timezone.utc).replace(minute=0, second=0, microsecond=0)
    return moment.replace(hour=0) if bucket == RollupBucket.DAY else moment


def drop_rolled_up_months(now):
    """
    PostgreSQL: drop each month partition of observations past every class's raw retention whose observations
    are all rolled up and none a breach's evidence. Returns {month: observations dropped}.
    """
    past_every_raw_retention = min(raw_cutoff(retention_class, now) for retention_class in POLICIES)
    evidence = Observation.breaches.through
    dropped = {}
    for month in OBSERVATION_MONTHS.months():
        start, end = month_bounds(month)
        if end > past_every_raw_retention:
            break
        with transaction.atomic():
            # No observation is written into the month, nor taken as a breach's evidence, until the month is gone.
            OBSERVATION_MONTHS.lock_month(month)
            with connection.cursor() as cursor:
                cursor.execute(f"LOCK TABLE {connection.ops.quote_name(evidence._meta.db_table)} IN SHARE MODE")
            in_month = Q(observed_at__gte=start, observed_at__lt=end)
            if evidence.objects.filter(observation__in=Observation.objects.filter(in_month).values("pk")).exists():
                continue
            if any(
                _bucketed(retention_class, policy.bucket).filter(in_month).exclude(_in_rollup(policy.bucket)).exists()
                for retention_class, policy in POLICIES.items()
            ):
                continue
            dropped[month] = Observation.objects.filter(in_month).count()
            OBSERVATION_MONTHS.drop_month(month)
    return dropped


def drop_expired_alert_months(now):
    """
    The alerts of each month past ALERT_RETENTION_DAYS, if the methodology's daily totals are stored for every
    company and day that month has alerts of: the partition dropped on PostgreSQL, the rows deleted elsewhere.
    Returns {month: alerts dropped}.
    """
    kept_from = month_start(now - datetime.timedelta(days=settings.ALERT_RETENTION_DAYS))
    partitioned = ALERT_MONTHS.is_partitioned()
    if partitioned:
        months = [month for month in ALERT_MONTHS.months() if month < kept_from]
    else:
        months = list(Alert.objects.filter(issued_at__lt=month_bounds(kept_from)[0]).dates("issued_at", "month"))
    dropped = {}
    for month in months:
        start, end = month_bounds(month)
        in_month = Alert.objects.filter(issued_at__gte=start, issued_at__lt=end)
        with transaction.atomic():
            if partitioned:
                ALERT_MONTHS.lock_month(month)
            uncovered = in_month.annotate(day=TruncDate("issued_at", tzinfo=datetime.timezone.utc)).exclude(
                Exists(DailyTotalsDay.objects.filter(company_id=OuterRef("company_id"), day=OuterRef("day")))
            )
            if uncovered.exists():
                continue
            if partitioned:
                dropped[month] = in_month.count()
                ALERT_MONTHS.drop_month(month)
            else:
                dropped[month], _ = in_month.delete()
    return dropped


def apply_retention(now):
    """
    Roll up every retention class, drop the whole months that may go, then prune each class row by row.
    Idempotent. Returns {class: {"buckets" upserted, "observations" and "rollups" deleted}, "observation_months"
    and "alert_months": {month: rows dropped}}.
    """
    buckets = {}
    for retention_class in POLICIES:
        with transaction.atomic():
            buckets[retention_class] = roll_up(retention_class, now)
    report = {"observation_months": drop_rolled_up_months(now), "alert_months": drop_expired_alert_months(now)}
    for retention_class in POLICIES:
        with transaction.atomic():
            report[retention_class.value] = {"buckets": buckets[retention_class], **prune(retention_class, now)}
    return report


def snapshot_evidence(snapshot):
    """
    {KPI slug: {"observations": ids still stored, "pruned": how many were pruned, "rollups": covering buckets}}
    -- what a snapshot's inputs point at now; pruned observations are accounted for by the rollups of that day.
    """
    start, end = day_bounds(snapshot.day)
    scope = Q(company=snapshot.company)
    if snapshot.level == ScopeLevel.SERVICE:
        scope = Q(service=snapshot.service)
    elif snapshot.level == ScopeLevel.DOMAIN:
        scope = Q(domain=snapshot.domain) | Q(service__domain=snapshot.domain)
    evidence = {}
    for slug, ids in snapshot.inputs.get("observations", {}).items():
        stored = list(Observation.objects.filter(pk__in=ids).order_by("pk").values_list("pk", flat=True))
        rollups = list(
            ObservationRollup.objects.filter(scope, kpi__slug=slug, bucket_start__gte=start, bucket_start__lt=end).order_by("pk")
        )
        evidence[slug] = {"observations": stored, "pruned": len(ids) - len(stored), "rollups": rollups}
    return evidence
