"""
Writing observations: ingestion of measured values, and the set-based recomputation that backfills and
the nightly run perform through the calculator registry.

Observations are append-only. Ingestion (`record_observations`) refuses a key that already exists.
Only recomputation (`compute_observations`) overwrites, by key, and only rows it computed itself
(source nightly or backfill); rows ingested through the API or the demo loader are never touched.
"""
import datetime
import math
from collections import defaultdict
from typing import NamedTuple

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Q

from companyos.bulk import insert_rows
from incidents.models import Company, Incident

from .calculators import CALCULATORS, Period, get_calculator
from .choices import ObservationSource, Status, Units
from .models import KpiDefinition, Observation

COMPUTED_SOURCES = (ObservationSource.NIGHTLY, ObservationSource.BACKFILL)
NON_NEGATIVE_UNITS = {
    Units.MINUTES,
    Units.HOURS,
    Units.DAYS,
    Units.MONTHS,
    Units.COUNT,
    Units.RATIO,
    Units.PER_DAY,
    Units.PER_HOUR,
    Units.PER_MONTH,
}
SCOPE_FIELDS = ("company", "domain", "service", "incident")

# The key of kpis_observation_unique_key, spelled as the ON CONFLICT target (PostgreSQL and SQLite).
CONFLICT_TARGET = (
    "kpi_id, COALESCE(incident_id, 0), company_id, COALESCE(domain_id, 0), COALESCE(service_id, 0), observed_at"
)

# {rows} is a calculator's SELECT producing the columns of calculators.ROW_COLUMNS. WHERE is required
# by SQLite between INSERT ... SELECT and ON CONFLICT, and drops rows without a value.
UPSERT_SQL = f"""
INSERT INTO kpis_observation
    (kpi_id, company_id, domain_id, service_id, incident_id, observed_at, value, confidence, source, run, computed_at)
SELECT %s, calc.obs_company, calc.obs_domain, calc.obs_service, calc.obs_incident,
       calc.obs_observed_at, calc.obs_value, calc.obs_confidence, %s, %s, %s
FROM ({{rows}}) calc
WHERE calc.obs_value IS NOT NULL
ON CONFLICT ({CONFLICT_TARGET}) DO UPDATE SET
    value = excluded.value, confidence = excluded.confidence, source = excluded.source,
    run = excluded.run, computed_at = excluded.computed_at
WHERE kpis_observation.source IN (%s, %s)
"""

# After the upsert every row the recomputation produced carries its computed_at; computed rows of the
# KPI, period and scope with an older one are no longer produced and go (an index range, no anti-join).
DELETE_STALE_SQL = """
DELETE FROM kpis_observation
WHERE kpi_id = %s AND source IN (%s, %s) AND observed_at >= %s AND observed_at < %s {company_filter}
  AND computed_at < %s
"""


class DuplicateObservation(ValidationError):
    """An observation with the same key (KPI, incident, scope, time) exists; ingestion never overwrites."""


class ComputeResult(NamedTuple):
    """What one recomputation did: rows inserted or overwritten, and stale computed rows removed."""

    written: int = 0
    removed: int = 0

    def __add__(self, other):
        return ComputeResult(self.written + other.written, self.removed + other.removed)


def as_utc_datetime(moment, field):
    """A date as its 00:00 UTC, an aware datetime as is; a naive datetime is refused naming `field`."""
    if isinstance(moment, datetime.datetime):
        if moment.tzinfo is None:
            raise ValidationError({field: f"{moment.isoformat()} has no time zone."})
        return moment
    return datetime.datetime.combine(moment, datetime.time.min, tzinfo=datetime.timezone.utc)


def definition_for(slug):
    """The definition of `slug`, or a ValidationError naming it."""
    try:
        return KpiDefinition.objects.get(slug=slug)
    except KpiDefinition.DoesNotExist:
        raise ValidationError({"kpi": f"There is no KPI definition with the slug '{slug}'."}) from None


def nightly_slugs():
    """The KPIs the nightly run computes: those with a calculator and a definition that is not retired."""
    defined = KpiDefinition.objects.filter(slug__in=CALCULATORS).exclude(status=Status.RETIRED)
    return list(defined.order_by("slug").values_list("slug", flat=True))


def compute_observations(slug, *, since, until, company=None, source, run, on_period=None):
    """
    Recompute the observations of `slug` observed in [since, until), optionally of one company, and
    overwrite the computed ones by key: one INSERT ... SELECT ... ON CONFLICT DO UPDATE per chunk (the
    whole period, each day, or runs of days: Calculator.periods), then remove the computed rows the
    recomputation no longer produces.

    `since`/`until` are dates (00:00 UTC) or aware datetimes; `company` a Company or its id.
    Each chunk is its own transaction, so an interrupted run leaves whole chunks and a re-run completes
    the same result. `on_period(period, result)` is called after each chunk (progress bars).
    Returns the total ComputeResult.
    """
    if source not in COMPUTED_SOURCES:
        raise ValueError(f"Computed observations have source nightly or backfill, not '{source}'.")
    calc = get_calculator(slug)
    kpi = definition_for(slug)
    period = Period(as_utc_datetime(since, "since"), as_utc_datetime(until, "until"))
    if period.end <= period.start:
        raise ValidationError({"until": f"until ({period.end:%Y-%m-%d}) must be after since ({period.start:%Y-%m-%d})."})
    company_id = getattr(company, "pk", company)
    total = ComputeResult()
    for chunk in calc.periods(period):
        result = _compute_chunk(calc, kpi.pk, chunk, company_id=company_id, source=source, run=run)
        total += result
        if on_period:
            on_period(chunk, result)
    return total


def _compute_chunk(calc, kpi_id, period, *, company_id, source, run):
    rows_sql, rows_params = calc.sql(period, company_id)
    adapt = connection.ops.adapt_datetimefield_value
    computed = [str(value) for value in COMPUTED_SOURCES]
    computed_at = adapt(datetime.datetime.now(datetime.timezone.utc))
    company_filter, company_params = ("AND company_id = %s", [company_id]) if company_id is not None else ("", [])
    upsert_params = [kpi_id, str(source), run, computed_at, *rows_params, *computed]
    delete_params = [kpi_id, *computed, adapt(period.start), adapt(period.end), *company_params, computed_at]
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(UPSERT_SQL.format(rows=rows_sql), upsert_params)
        written = cursor.rowcount
        cursor.execute(DELETE_STALE_SQL.format(company_filter=company_filter), delete_params)
        return ComputeResult(written=written, removed=cursor.rowcount)


# --- Ingestion ----------------------------------------------------------------------------------------


def record_observations(rows, *, source=ObservationSource.API, run=""):
    """
    Store measured observations, all or nothing, and return them (their primary keys are not read back).

    Each row is a mapping: kpi (slug), observed_at (aware datetime), value, optional confidence (0-1,
    default 1) and scope: company, domain, service, incident (instances or ids). With an incident and
    no company, the scope is the incident's. Refuses, naming the row and field: an unknown slug, a
    value its units forbid (a percent outside 0-100, a negative duration or count), a confidence
    outside 0-1, and (as DuplicateObservation) a key that already exists or repeats in the batch.
    """
    if source in COMPUTED_SOURCES:
        raise ValueError(f"Source '{source}' is reserved for computed observations; use compute_observations.")
    rows = list(rows)
    kpis = _definitions_of(rows)
    incident_scopes = _incident_scopes(rows)
    errors = defaultdict(list)
    observations = []
    for number, row in enumerate(rows, start=1):
        observation = _observation_from(row, number, kpis, incident_scopes, errors)
        if observation is not None:
            observation.source = source
            observation.run = run
            observations.append(observation)
    if errors:
        raise ValidationError(dict(errors))
    _refuse_repeated_keys(observations)
    try:
        insert_rows(Observation, INGEST_FIELDS, (_ingest_row(observation) for observation in observations))
    except IntegrityError as error:
        existing = _first_existing(observations)
        if existing is None:
            raise
        raise DuplicateObservation(f"{_describe_key(existing)} already exists; observations are never overwritten.") from error
    return observations


# Ingested rows go through companyos.bulk (COPY on PostgreSQL): an API batch of 10,000 is one round trip.
INGEST_FIELDS = ("kpi", "company", "domain", "service", "incident", "observed_at", "value", "confidence", "source", "run")


def _ingest_row(observation):
    return (
        observation.kpi_id, observation.company_id, observation.domain_id, observation.service_id,
        observation.incident_id, observation.observed_at, observation.value, observation.confidence,
        observation.source, observation.run,
    )


def _definitions_of(rows):
    slugs = {row.get("kpi") for row in rows}
    kpis = {kpi.slug: kpi for kpi in KpiDefinition.objects.filter(slug__in=slugs)}
    unknown = sorted(str(slug) for slug in slugs - kpis.keys())
    if unknown:
        names = ", ".join(f"'{slug}'" for slug in unknown)
        raise ValidationError({"kpi": f"There is no KPI definition with the slug {names}; define it before observing it."})
    return kpis


def _pk(value):
    return getattr(value, "pk", value)


def _incident_scopes(rows):
    """company, domain and service ids of the incidents of rows that name no company."""
    ids = {_pk(row["incident"]) for row in rows if row.get("incident") is not None and row.get("company") is None}
    scopes = Incident.objects.filter(pk__in=ids).values_list("pk", "company_id", "service__domain_id", "service_id")
    return {pk: {"company": company, "domain": domain, "service": service} for pk, company, domain, service in scopes}


def _observation_from(row, number, kpis, incident_scopes, errors):
    kpi = kpis[row["kpi"]]
    where = f"Row {number} ({kpi.slug})"
    errors_before = sum(len(messages) for messages in errors.values())
    scope = {field: _pk(row.get(field)) for field in SCOPE_FIELDS}
    if scope["company"] is None and scope["incident"] is not None:
        if scope["incident"] not in incident_scopes:
            errors["incident"].append(f"{where}: there is no incident {scope['incident']}.")
            return None
        scope.update({key: value for key, value in incident_scopes[scope["incident"]].items() if scope[key] is None})
    if scope["company"] is None:
        errors["company"].append(f"{where}: a company (or an incident) is required.")
    observed_at = row.get("observed_at")
    if not isinstance(observed_at, datetime.datetime) or observed_at.tzinfo is None:
        errors["observed_at"].append(f"{where}: observed_at must be a datetime with a time zone.")
    value = _number(row.get("value"))
    if value is None:
        errors["value"].append(f"{where}: value must be a finite number.")
    elif kpi.units == Units.PERCENT and not 0 <= value <= 100:
        errors["value"].append(f"{where}: {value} is outside 0-100, the range of a percent KPI.")
    elif kpi.units in NON_NEGATIVE_UNITS and value < 0:
        errors["value"].append(f"{where}: {value} is negative, which {kpi.get_units_display()} cannot be.")
    confidence = _number(row.get("confidence", 1.0))
    if confidence is None or not 0 <= confidence <= 1:
        errors["confidence"].append(f"{where}: confidence must be a number between 0 and 1.")
    if sum(len(messages) for messages in errors.values()) > errors_before:
        return None
    return Observation(
        kpi=kpi,
        company_id=scope["company"],
        domain_id=scope["domain"],
        service_id=scope["service"],
        incident_id=scope["incident"],
        observed_at=observed_at,
        value=value,
        confidence=confidence,
    )


def _number(value):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return None
    return float(value)


def _key(observation):
    return (
        observation.kpi_id,
        observation.incident_id,
        observation.company_id,
        observation.domain_id,
        observation.service_id,
        observation.observed_at,
    )


def _refuse_repeated_keys(observations):
    seen = set()
    for observation in observations:
        key = _key(observation)
        if key in seen:
            raise DuplicateObservation(f"{_describe_key(observation)} appears twice in the batch.")
        seen.add(key)


def _first_existing(observations):
    """The first observation of the batch whose key is already stored (checked after a unique violation)."""
    fields = ("kpi_id", "incident_id", "company_id", "domain_id", "service_id", "observed_at")
    any_key = Q()
    for observation in observations:
        any_key |= Q(**dict(zip(fields, _key(observation))))
    stored = set(Observation.objects.filter(any_key).values_list(*fields))
    return next((observation for observation in observations if _key(observation) in stored), None)


def _describe_key(observation):
    company = Company.objects.filter(pk=observation.company_id).values_list("slug", flat=True).first()
    parts = [f"An observation of '{observation.kpi.slug}' for company '{company or observation.company_id}'"]
    for field in ("domain", "service", "incident"):
        if getattr(observation, f"{field}_id") is not None:
            parts.append(f"{field} {getattr(observation, f'{field}_id')}")
    parts.append(f"at {observation.observed_at.isoformat()}")
    return ", ".join(parts)
