"""
Writing observations: ingestion of measured values, and the set-based recomputation that backfills and
the nightly run perform through the calculator registry.

Observations are append-only. Ingestion (`record_observations`) refuses a key that already exists.
Only recomputation (`compute_observations`) overwrites, by key, and only rows it computed itself
(source nightly or backfill); rows ingested through the API or the demo loader are never touched.
"""
import datetime
import math
import re
from collections import defaultdict
from typing import NamedTuple

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Model
from django.db.models.functions import TruncDate

from companyos.bulk import insert_rows
from incidents.models import Alert, Incident
from tenancy.models import Company

from .calculators import CALCULATORS, Period, get_calculator
from .choices import ObservationSource, Status, Units
from .models import KpiDefinition, Observation

COMPUTED_SOURCES = (ObservationSource.NIGHTLY, ObservationSource.BACKFILL)
# A data source may name the source of the observations it sends (the seed's worker writes one per row): a short
# slug. The portal's own sources other than `api` (the default), and names starting with one of them and a
# separator, stay reserved, so an ingested row never passes for computed, collected or demo data.
SOURCE_NAME = re.compile(r"[a-z0-9][a-z0-9._-]{0,31}")
RESERVED_SOURCES = tuple(str(source) for source in ObservationSource if source != ObservationSource.API)
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


def days_awaiting_correlation(*, since, until, company=None):
    """
    {company slug: [UTC days]} of the days in [since, until) with an alert of the company (of `company` only,
    if given) that correlation has not grouped yet: a calculator that `reads_correlation` leaves them without a value.
    """
    pending = Alert.objects.filter(incident__isnull=True, issued_at__gte=since, issued_at__lt=until)
    if company is not None:
        pending = pending.filter(company=company)
    days = pending.annotate(day=TruncDate("issued_at", tzinfo=datetime.timezone.utc)).values_list("company__slug", "day")
    awaiting = defaultdict(list)
    for slug, day in days.distinct().order_by("company__slug", "day"):
        awaiting[slug].append(day)
    return dict(awaiting)


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
    Store measured observations, all or nothing, and return how many were stored.

    Each row is a mapping: kpi (slug), observed_at (aware datetime), value, optional confidence (0-1,
    default 1) and scope: company, domain, service, incident (instances or ids). With an incident and
    no company, the scope is the incident's. Refuses, naming the row and field: an unknown slug, a
    value its units forbid (a percent outside 0-100, a negative duration or count), a confidence
    outside 0-1, a KPI that has a calculator (computed only: the message says what it is computed from), a row's
    own `source` that `source_refusal` refuses (without one, the row has `source`), and (as DuplicateObservation) a
    key that already exists or repeats in the batch.
    """
    if source in COMPUTED_SOURCES:
        raise ValueError(f"Source '{source}' is reserved for computed observations; use compute_observations.")
    rows = list(rows)
    kpis = _definitions_of(rows)
    incident_scopes = _incident_scopes(rows)
    errors = defaultdict(list)
    # Plain tuples in INGEST_FIELDS order, not model instances: building 10,000 instances cost more
    # than checking and writing the rows.
    new_rows, keys, repeated = [], set(), None
    for number, row in enumerate(rows, start=1):
        values = _ingest_values(row, number, kpis, incident_scopes, errors)
        if values is None:
            continue
        key = values[:KEY_LENGTH]
        if key in keys and repeated is None:
            repeated = key
        keys.add(key)
        new_rows.append((*values, row.get("source") or source, run))
    if errors:
        raise ValidationError(dict(errors))
    slugs = {kpi.pk: kpi.slug for kpi in kpis.values()}
    if repeated is not None:
        raise DuplicateObservation(f"{_describe_key(repeated, slugs)} appears twice in the batch.")
    try:
        return insert_rows(Observation, INGEST_FIELDS, new_rows)
    except IntegrityError as error:
        existing = _first_existing([row[:KEY_LENGTH] for row in new_rows])
        if existing is None:
            raise
        raise DuplicateObservation(f"{_describe_key(existing, slugs)} already exists; observations are never overwritten.") from error


# Ingested rows go through companyos.bulk (COPY on PostgreSQL): an API batch of 10,000 is one round trip.
# The first KEY_LENGTH fields are the key of kpis_observation_unique_key.
INGEST_FIELDS = ("kpi", "company", "domain", "service", "incident", "observed_at", "value", "confidence", "source", "run")
KEY_LENGTH = 6
# Keys looked up per query after a unique violation: their times are parameters, and SQLite may allow
# no more than 999 in one query.
EXISTING_KEYS_PER_QUERY = 500


def _definitions_of(rows):
    """The definitions of the rows' slugs (checked once per distinct slug); refuses unknown and computed ones."""
    slugs = {row.get("kpi") for row in rows}
    kpis = {kpi.slug: kpi for kpi in KpiDefinition.objects.filter(slug__in=slugs)}
    unknown = sorted(str(slug) for slug in slugs - kpis.keys())
    if unknown:
        names = ", ".join(f"'{slug}'" for slug in unknown)
        raise ValidationError({"kpi": f"There is no KPI definition with the slug {names}; define it before observing it."})
    computed = sorted(slug for slug in kpis if slug in CALCULATORS)
    if computed:
        # Its calculator owns its values: an observation sent alongside would compete with the computed ones.
        raise ValidationError(
            {"kpi": [f"'{slug}' is computed, so it takes no observations; it is computed from {CALCULATORS[slug].inputs}." for slug in computed]}
        )
    return kpis


def _pk(value):
    return value.pk if isinstance(value, Model) else value


def _incident_scopes(rows):
    """company, domain and service ids of the incidents of rows that name no company."""
    ids = {_pk(row["incident"]) for row in rows if row.get("incident") is not None and row.get("company") is None}
    scopes = Incident.objects.filter(pk__in=ids).values_list("pk", "company_id", "service__domain_id", "service_id")
    return {pk: (company, domain, service) for pk, company, domain, service in scopes}


def _ingest_values(row, number, kpis, incident_scopes, errors):
    """
    kpi, company, domain, service, incident ids, observed_at, value and confidence of `row`, or None
    when it is refused (its messages added to `errors`, by field).
    """
    kpi = kpis[row["kpi"]]
    company, domain, service, incident = (_pk(row.get(field)) for field in SCOPE_FIELDS)
    if company is None and incident is not None:
        if incident not in incident_scopes:
            errors["incident"].append(f"Row {number} ({kpi.slug}): there is no incident {incident}.")
            return None
        company, incident_domain, incident_service = incident_scopes[incident]
        domain = incident_domain if domain is None else domain
        service = incident_service if service is None else service
    refusals = []
    if company is None:
        refusals.append(("company", "a company (or an incident) is required."))
    observed_at = row.get("observed_at")
    if not isinstance(observed_at, datetime.datetime) or observed_at.tzinfo is None:
        refusals.append(("observed_at", "observed_at must be a datetime with a time zone."))
    value = _number(row.get("value"))
    if value is None:
        refusals.append(("value", "value must be a finite number."))
    elif refusal := Units(kpi.units).refusal(value):
        refusals.append(("value", f"{refusal}."))
    confidence = _number(row.get("confidence", 1.0))
    if confidence is None or not 0 <= confidence <= 1:
        refusals.append(("confidence", "confidence must be a number between 0 and 1."))
    if row.get("source") is not None and (refusal := source_refusal(row["source"])):
        refusals.append(("source", refusal))
    if refusals:
        for field, message in refusals:
            errors[field].append(f"Row {number} ({kpi.slug}): {message}")
        return None
    return kpi.pk, company, domain, service, incident, observed_at, value, confidence


def source_refusal(name):
    """Why `name` may not be an ingested observation's source, or None."""
    if not isinstance(name, str) or not SOURCE_NAME.fullmatch(name):
        return (
            f"source {name!r} is not a source name: 1-32 lowercase letters, digits, '-', '.' or '_', "
            "starting with a letter or digit (e.g. ssm-worker)."
        )
    for reserved in RESERVED_SOURCES:
        if name == reserved or (name.startswith(reserved) and name[len(reserved)] in "-._"):
            return f"source '{name}' is reserved for the portal's own {reserved} observations; name your data source."
    return None


def _number(value):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return None
    return float(value)


def _first_existing(keys):
    """The first key of the batch that is already stored (looked up after a unique violation)."""
    fields = [f"{field}_id" for field in INGEST_FIELDS[: KEY_LENGTH - 1]] + ["observed_at"]
    for start in range(0, len(keys), EXISTING_KEYS_PER_QUERY):
        chunk = keys[start : start + EXISTING_KEYS_PER_QUERY]
        # The stored rows of the chunk's KPIs at its times (index kpi, observed_at), compared whole here.
        candidates = Observation.objects.filter(kpi_id__in={key[0] for key in chunk}, observed_at__in={key[-1] for key in chunk})
        stored = set(candidates.values_list(*fields))
        existing = next((key for key in chunk if key in stored), None)
        if existing is not None:
            return existing
    return None


def _describe_key(key, slugs):
    kpi, company_id, domain, service, incident, observed_at = key
    company = Company.objects.filter(pk=company_id).values_list("slug", flat=True).first()
    parts = [f"An observation of '{slugs[kpi]}' for company '{company or company_id}'"]
    for field, scope in (("domain", domain), ("service", service), ("incident", incident)):
        if scope is not None:
            parts.append(f"{field} {scope}")
    parts.append(f"at {observed_at.isoformat()}")
    return ", ".join(parts)
