"""
The hourly collection of KPIs from Prometheus (kpis.prometheus).

The beat entry fans out one task per collected definition, all evaluating the same start of the hour, so a
retry later in the hour still asks for that time and a redelivered task finds its event and changes nothing.
It fans out too the earlier hours whose evaluation failed or found no series, within
settings.PROMETHEUS_EMPTY_RESULT_RETRY (kpis.prometheus.failed_hours).
"""
import datetime

from celery import group, shared_task
from django.utils import timezone

from companyos.celery import DATABASE_TASK_OPTIONS
from kpis import prometheus

# An unreachable or failing Prometheus is retried like a lost database connection, but with a longer backoff
# (1, 2, 4, 8 then 10 minutes, jittered) so the retries span the rest of the hour rather than a minute.
PROMETHEUS_TASK_OPTIONS = {
    **DATABASE_TASK_OPTIONS,
    "autoretry_for": (*DATABASE_TASK_OPTIONS["autoretry_for"], prometheus.PrometheusError),
    "retry_backoff": 60,
}


@shared_task(name="kpis.tasks.collect_prometheus_kpis", **DATABASE_TASK_OPTIONS)
def collect_prometheus_kpis(at_iso=None):
    """
    Beat entry point (hourly): collect every collected definition at `at_iso` (default: this hour's start), and
    again the earlier hours that failed; how many evaluations it started.
    """
    at = datetime.datetime.fromisoformat(at_iso) if at_iso else prometheus.start_of_hour(timezone.now())
    definitions = list(prometheus.collected_definitions().order_by("slug"))
    evaluations = [(kpi, at) for kpi in definitions] + prometheus.failed_hours(definitions, now=at)
    group(collect_prometheus_kpi.si(kpi.pk, moment.isoformat()) for kpi, moment in evaluations).apply_async()
    return len(evaluations)


@shared_task(name="kpis.tasks.collect_prometheus_kpi", **PROMETHEUS_TASK_OPTIONS)
def collect_prometheus_kpi(kpi_id, at_iso):
    """Evaluate one definition's PromQL at `at_iso`; a failure is noted on the definition, then retried."""
    kpi = prometheus.collected_definitions().filter(pk=kpi_id).first()
    if kpi is None:
        return None  # no longer collected since the fan-out
    received = prometheus.collect(kpi, at=datetime.datetime.fromisoformat(at_iso))
    return {"event": received.event.pk, "created": received.created}
