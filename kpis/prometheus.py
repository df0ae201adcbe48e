"""
KPI observations from Prometheus: a definition's PromQL evaluated through the HTTP API (`/api/v1/query` at the
start of the hour for the scheduled run, `/api/v1/query_range` once a day at 00:00 UTC for a backfill), each
response kept as a SourceEvent with the observations it produced.

The delivery ID names the KPI, the Prometheus and the time (or days) evaluated, so evaluating the same thing
again finds its event and changes nothing; a value whose key is already observed is kept as it is. Results are
in Prometheus base units (ratios 0-1, seconds) and are converted to the definition's units. NaN and infinite
samples, series whose labels name no company, domain or service of ours, and values the units forbid are
skipped and listed in the event. An unreachable Prometheus, or a query it refuses, writes nothing: the failure
is noted on the definition's PrometheusCollection and raised as PrometheusError (the task retries it, and the
hourly run retries the failed hours of the last settings.PROMETHEUS_EMPTY_RESULT_RETRY). A result with no series is
such a failure until the time evaluated is that old (the data may yet arrive: a late scrape, a remote write), and
ignored after.
"""
import datetime
import functools
import math
from collections import defaultdict

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import F
from django.utils import timezone

from connectors.choices import EventSource, EventStatus, IntegrationKind
from connectors.models import SourceEvent
from connectors.prometheus import PrometheusError, query, timestamp
from connectors.services import Ignored, Received, event_run, receive
from tenancy.models import Company, Domain, Service

from .choices import ObservationSource, Status, Units
from .models import KpiDefinition, Observation, PrometheusCollection
from .observations import as_utc_datetime, record_observations

DAY = datetime.timedelta(days=1)

# Factors from Prometheus' base units to a definition's: a 0-1 ratio to percent, seconds to longer durations
# (a month of 30 days, as the month-over-month KPIs count it). Other units are taken as the expression gives them.
FROM_BASE_UNITS = {
    Units.PERCENT: 100,
    Units.PERCENT_CHANGE: 100,
    Units.MINUTES: 1 / 60,
    Units.HOURS: 1 / 3600,
    Units.DAYS: 1 / 86400,
    Units.MONTHS: 1 / (30 * 86400),
}


def collected_definitions():
    """The definitions collected hourly: a PromQL, an active Prometheus, and not retired."""
    return (
        KpiDefinition.objects.exclude(promql="")
        .filter(prometheus__kind=IntegrationKind.PROMETHEUS, prometheus__active=True)
        .exclude(status=Status.RETIRED)
        .select_related("prometheus", "prometheus__company")
    )


def start_of_hour(moment):
    return moment.astimezone(datetime.timezone.utc).replace(minute=0, second=0, microsecond=0)


def query_delivery_id(kpi, integration, at):
    return f"{kpi.slug}:{integration.pk}:{at.astimezone(datetime.timezone.utc).isoformat()}"


def range_delivery_id(kpi, integration, since, until):
    """The delivery ID of the days [since, until) evaluated at 00:00 UTC each."""
    return f"{kpi.slug}:{integration.pk}:{since.isoformat()}/{until.isoformat()}"


def collect(kpi, *, at):
    """
    Evaluate `kpi`'s PromQL at `at` (an aware datetime) and store the observations it gives, once.

    Returns the Received of its SourceEvent (created False: evaluated before, nothing changed). Raises
    PrometheusError, noted on the definition, when Prometheus is unreachable or the query fails.
    """
    at = at.astimezone(datetime.timezone.utc)
    params = {"query": kpi.promql, "time": timestamp(at)}
    return _collect(kpi, query_delivery_id(kpi, kpi.prometheus, at), "query", "/api/v1/query", params, at)


def collect_range(kpi, *, since, until):
    """Evaluate `kpi`'s PromQL at 00:00 UTC of each day of [since, until) (dates) once; as `collect`."""
    if since >= until:
        raise ValidationError({"until": f"until ({until}) must be after since ({since})."})
    end = as_utc_datetime(until - DAY, "until")
    params = {
        "query": kpi.promql,
        "start": timestamp(as_utc_datetime(since, "since")),
        "end": timestamp(end),
        "step": f"{DAY.total_seconds():g}",
    }
    delivery_id = range_delivery_id(kpi, kpi.prometheus, since, until)
    return _collect(kpi, delivery_id, "query_range", "/api/v1/query_range", params, end)


def failed_hours(definitions, *, now):
    """
    [(definition, start of an hour)] of `definitions` whose hourly evaluation failed or found no series, in the
    hours before `now`'s within settings.PROMETHEUS_EMPTY_RESULT_RETRY: the hourly run evaluates them again.
    """
    current = start_of_hour(now)
    hours = [current - datetime.timedelta(hours=back) for back in range(1, _retry_hours() + 1)]
    candidates = {query_delivery_id(kpi, kpi.prometheus, hour): (kpi, hour) for kpi in definitions for hour in hours}
    failed = SourceEvent.objects.filter(
        source=EventSource.PROMETHEUS, status=EventStatus.FAILED, delivery_id__in=list(candidates)
    ).values_list("delivery_id", flat=True)
    return sorted((candidates[delivery_id] for delivery_id in failed), key=lambda pair: (pair[0].slug, pair[1]))


def _retry_hours():
    return int(settings.PROMETHEUS_EMPTY_RESULT_RETRY.total_seconds() // 3600)


def _collect(kpi, delivery_id, event_type, path, params, evaluated_at):
    if kpi.prometheus is None or not kpi.promql.strip():
        raise ValidationError({"prometheus": f"'{kpi.slug}' needs a PromQL expression and a Prometheus to be collected."})
    evaluated = (
        SourceEvent.objects.filter(source=EventSource.PROMETHEUS, delivery_id=delivery_id)
        .exclude(status=EventStatus.FAILED)
        .first()
    )
    if evaluated is not None:
        return Received(evaluated, False)
    try:
        response = query(kpi.prometheus, path, params)
    except PrometheusError as error:
        _record_failure(kpi, str(error))
        raise
    return record_response(kpi, delivery_id=delivery_id, event_type=event_type, response=response, evaluated_at=evaluated_at)


def record_response(kpi, *, delivery_id, event_type, response, evaluated_at=None):
    """
    Keep `response`, a Prometheus API response to `kpi`'s PromQL, as the SourceEvent `delivery_id`; store the
    observations it gives and note the outcome on the definition. An error response, or one that cannot be
    stored, is kept as a failed event and raised as PrometheusError; so is one with no series while
    `evaluated_at` (the last time the query evaluated; default: long ago) is younger than the retry age.
    """
    integration = kpi.prometheus
    retry_until = evaluated_at and evaluated_at + settings.PROMETHEUS_EMPTY_RESULT_RETRY
    try:
        received = receive(
            EventSource.PROMETHEUS,
            delivery_id,
            functools.partial(_store_observations, kpi, integration, retry_until),
            event_type=event_type,
            payload=response,
            integration=integration,
            company=integration.company,
        )
    except ValidationError as error:
        message = " ".join(error.messages)
        _record_failure(kpi, message, SourceEvent.objects.filter(source=EventSource.PROMETHEUS, delivery_id=delivery_id).first())
        raise PrometheusError(message) from error
    PrometheusCollection.objects.update_or_create(
        kpi=kpi, defaults={"last_success_at": timezone.now(), "consecutive_failures": 0, "last_event": received.event}
    )
    return received


def _record_failure(kpi, message, event=None):
    collection, _ = PrometheusCollection.objects.get_or_create(kpi=kpi)
    failed = {"last_error": message, "last_error_at": timezone.now(), "consecutive_failures": F("consecutive_failures") + 1}
    if event is not None:
        failed["last_event"] = event
    PrometheusCollection.objects.filter(pk=collection.pk).update(**failed)


def _store_observations(kpi, integration, retry_until, event):
    """
    The handler of a response: its series' values as observations of `kpi`; what it skipped and why. No series
    fails (to be evaluated again) until `retry_until`, and is ignored after.
    """
    response = event.payload
    if response.get("status") != "success":
        refusal = f"({response.get('errorType', 'error')}): {response.get('error', '')}"
        raise ValidationError({"promql": f"Prometheus refused the query of '{kpi.slug}' {refusal}"})
    series = _series(response.get("data"))
    if not series and retry_until is not None and timezone.now() < retry_until:
        raise ValidationError(
            {"data": f"The query returned no series yet; it is evaluated again until {retry_until.isoformat()}."}
        )
    if not series:
        raise Ignored("The query returned no series.")
    scopes, skipped = _scopes(integration, [labels for labels, _ in series])
    rows = []
    for (labels, samples), scope in zip(series, scopes, strict=True):
        if scope is None:
            continue
        problems = []
        for observed_at, value in samples:
            value = to_definition_units(kpi, value)
            problem = _value_problem(kpi, value)
            if problem:
                problems.append(f"{problem} at {observed_at.isoformat()}")
            else:
                rows.append({"kpi": kpi.slug, **scope, "observed_at": observed_at, "value": value})
        if problems:
            more = f" (and {len(problems) - 1} more value(s))" if len(problems) > 1 else ""
            skipped.append({"series": labels, "reason": f"{problems[0]}{more}."})
    rows, existing = _unobserved(kpi, rows)
    if rows:
        record_observations(rows, source=ObservationSource.PROMETHEUS, run=event_run(event))
    else:
        reasons = [f"{len(existing)} value(s) were observed already."] if existing else []
        reasons += [f"{_describe(entry['series'])}: {entry['reason']}" for entry in skipped]
        raise Ignored(" ".join(reasons) or "The query returned no values.")
    # The run names the event, so it finds exactly the rows just written (ingestion does not read keys back).
    times = [row["observed_at"] for row in rows]
    written = Observation.objects.filter(
        kpi=kpi, observed_at__gte=min(times), observed_at__lte=max(times), run=event_run(event)
    ).order_by("pk").values_list("pk", flat=True)
    produced = {"kpis.observation": list(written)}
    if existing:
        produced["already observed"] = len(existing)
    if skipped:
        produced["skipped"] = skipped
    return produced


def _series(data):
    """[(labels, [(observed_at, value as stored), ...])] of a query result of any numeric resultType."""
    try:
        kind, result = data["resultType"], data["result"]
        if kind == "vector":
            raw = [(item.get("metric", {}), [item["value"]] if "value" in item else []) for item in result]
        elif kind == "matrix":
            raw = [(item.get("metric", {}), item.get("values", [])) for item in result]
        elif kind == "scalar":
            raw = [({}, [result])]
        else:
            raise ValidationError({"resultType": f"A {kind} result holds no numbers; the PromQL must give numbers."})
        return [
            (dict(labels), [(_utc(timestamp), float(value)) for timestamp, value in samples])
            for labels, samples in raw
        ]
    except (KeyError, TypeError, ValueError) as error:
        if isinstance(error, ValidationError):
            raise
        raise ValidationError({"data": f"Not a Prometheus query result ({error!r})."}) from None


def _utc(timestamp):
    return datetime.datetime.fromtimestamp(float(timestamp), tz=datetime.timezone.utc)


def to_definition_units(kpi, value):
    """`value` from Prometheus' base units to `kpi`'s, to 12 significant digits (no 99.91000000000001)."""
    return float(f"{value * FROM_BASE_UNITS.get(kpi.units, 1):.12g}")


def _value_problem(kpi, value):
    """Why `value` (in `kpi`'s units) is not stored, or None: Prometheus' NaN and infinities, what the units forbid."""
    if not math.isfinite(value):
        return f"{'NaN' if math.isnan(value) else f'{value:+}'.replace('inf', 'Inf')} is not a value"
    refusal = Units(kpi.units).refusal(value)
    return refusal and f"{refusal},"


def _unobserved(kpi, rows):
    """The rows no observation has the key of yet, and the rows already observed (kept: ingestion never overwrites)."""
    if not rows:
        return [], []
    times = [row["observed_at"] for row in rows]
    stored = set(
        Observation.objects.filter(
            kpi=kpi,
            incident__isnull=True,
            company_id__in={row["company"] for row in rows},
            observed_at__gte=min(times),
            observed_at__lte=max(times),
        ).values_list("company_id", "domain_id", "service_id", "observed_at")
    )
    new, existing = [], []
    for row in rows:
        key = (row["company"], row["domain"], row["service"], row["observed_at"])
        (existing if key in stored else new).append(row)
    return new, existing


def _describe(labels):
    """A series as Prometheus writes its labels: {company="comp-acme", service="checkout"}."""
    return "{" + ", ".join(f'{name}="{value}"' for name, value in sorted(labels.items())) + "}"


def _scopes(integration, label_sets):
    """
    For each label set the scope {company, domain, service} (ids) it names, or None; and what was skipped, why.

    A Prometheus of one company scopes to it (a `company` label must name it); one serving several needs the
    label. `service` and `domain` name ours within that company. Series sharing one scope are all skipped:
    the expression should aggregate them.
    """
    def named(label):
        return {labels[label] for labels in label_sets if label in labels}

    companies = {company.slug: company for company in Company.objects.filter(slug__in=named("company"))}
    in_scope = [*companies.values(), *([integration.company] if integration.company else [])]
    services = defaultdict(list)
    for service in Service.objects.filter(domain__company__in=in_scope, slug__in=named("service")).select_related("domain"):
        services[(service.domain.company_id, service.slug)].append(service)
    domains = {
        (domain.company_id, domain.slug): domain
        for domain in Domain.objects.filter(company__in=in_scope, slug__in=named("domain"))
    }
    scopes, skipped = [], []
    for labels in label_sets:
        scope, reason = _scope(integration, labels, companies, domains, services)
        scopes.append(scope)
        if reason:
            skipped.append({"series": labels, "reason": reason})
    shared = defaultdict(list)
    for index, scope in enumerate(scopes):
        if scope is not None:
            shared[tuple(scope.values())].append(index)
    for indexes in shared.values():
        if len(indexes) > 1:
            for index in indexes:
                scopes[index] = None
                skipped.append({
                    "series": label_sets[index],
                    "reason": f"{len(indexes)} series have the same company, domain and service; aggregate them by "
                    "those labels in the PromQL.",
                })
    return scopes, skipped


def _scope(integration, labels, companies, domains, services):
    company_slug = labels.get("company")
    if integration.company is not None:
        if company_slug not in (None, integration.company.slug):
            return None, f"company '{company_slug}' is not {integration.company.slug}, the company of this Prometheus."
        company = integration.company
    elif company_slug is None:
        return None, "No company label, and this Prometheus serves several companies."
    elif company_slug not in companies:
        return None, f"There is no company '{company_slug}'."
    else:
        company = companies[company_slug]
    domain_slug, service_slug = labels.get("domain"), labels.get("service")
    if service_slug is not None:
        candidates = [
            service for service in services.get((company.pk, service_slug), [])
            if domain_slug is None or service.domain.slug == domain_slug
        ]
        if not candidates:
            where = f" in domain '{domain_slug}'" if domain_slug else ""
            return None, f"{company.slug} has no service '{service_slug}'{where}."
        if len(candidates) > 1:
            return None, f"{company.slug} has a service '{service_slug}' in several domains; add a domain label."
        return {"company": company.pk, "domain": candidates[0].domain_id, "service": candidates[0].pk}, None
    if domain_slug is not None:
        if (company.pk, domain_slug) not in domains:
            return None, f"{company.slug} has no domain '{domain_slug}'."
        return {"company": company.pk, "domain": domains[(company.pk, domain_slug)].pk, "service": None}, None
    return {"company": company.pk, "domain": None, "service": None}, None
