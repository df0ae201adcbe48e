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
"""
import datetime
from dataclasses import dataclass

from django.db import connection, transaction
from django.db.models import CharField, Count, Exists, Max, Min, OuterRef, Q, Sum, Value
from django.db.models.functions import Cast, Coalesce, Concat, TruncDay, TruncHour

from kpis.choices import RetentionClass
from kpis.models import Observation

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


def apply_retention(now):
    """Roll up, then prune, every retention class. Idempotent. Returns {class: {"buckets" upserted, "observations" and "rollups" deleted}}."""
    report = {}
    for retention_class in POLICIES:
        with transaction.atomic():
            buckets = roll_up(retention_class, now)
            report[retention_class.value] = {"buckets": buckets, **prune(retention_class, now)}
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
