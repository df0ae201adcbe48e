"""Retention: raw observations roll up into hourly or daily buckets and are pruned after their raw retention."""
import datetime

import pytest

from kpis.models import Observation
from scoring.models import Breach, ObservationRollup, ScoreSnapshot
from scoring.retention import apply_retention, prune, snapshot_evidence
from scoring.services import compute_snapshots
from tests.kpis.factories import KpiDefinitionFactory, ObservationFactory
from tests.tenancy.factories import CompanyFactory, ServiceFactory

NOW = datetime.datetime(2024, 3, 1, 6, tzinfo=datetime.timezone.utc)
OLD_DAY = datetime.date(2024, 2, 1)  # 29 days before NOW: past service metrics' 15 days, within business' 30
OLD = datetime.datetime(2024, 2, 1, 10, tzinfo=datetime.timezone.utc)

pytestmark = pytest.mark.django_db


@pytest.fixture
def data():
    service = ServiceFactory(domain__company=CompanyFactory(slug="comp-acme"))
    latency = KpiDefinitionFactory(slug="latency", retention_class="service")
    nrr = KpiDefinitionFactory(slug="nrr", retention_class="business", dimension="financials", direction="higher", target=110, critical_threshold=90)
    scope = {"company": service.domain.company, "domain": service.domain, "service": service}
    for minute, value in [(0, 10), (20, 30), (70, 50)]:
        ObservationFactory(kpi=latency, observed_at=OLD + datetime.timedelta(minutes=minute), value=value, **scope)
    recent = ObservationFactory(kpi=latency, observed_at=NOW - datetime.timedelta(days=2), value=5, **scope)
    ObservationFactory(kpi=nrr, company=service.domain.company, observed_at=OLD, value=100)
    return {"service": service, "latency": latency, "nrr": nrr, "recent": recent}


def test_service_metrics_roll_up_hourly_and_only_what_is_past_15_days_is_pruned(data):
    report = apply_retention(NOW)
    rollups = ObservationRollup.objects.filter(kpi=data["latency"]).order_by("bucket_start")
    assert [(r.bucket, r.bucket_start.hour, r.count, r.sum, r.min, r.max) for r in rollups[:2]] == [
        ("hour", 10, 2, 40.0, 10.0, 30.0),
        ("hour", 11, 1, 50.0, 50.0, 50.0),
    ]
    assert list(Observation.objects.filter(kpi=data["latency"])) == [data["recent"]]
    # Business metrics keep 30 days raw: the 29-day-old NRR is rolled up daily but not pruned.
    assert Observation.objects.filter(kpi=data["nrr"]).count() == 1
    assert ObservationRollup.objects.get(kpi=data["nrr"]).bucket == "day"
    assert report["service"]["observations"] == 3


def test_retention_is_idempotent(data):
    apply_retention(NOW)
    first = sorted(ObservationRollup.objects.values_list("kpi_id", "scope_key", "bucket", "bucket_start", "count", "sum", "min", "max"))
    remaining = Observation.objects.count()
    report = apply_retention(NOW)
    assert sorted(ObservationRollup.objects.values_list("kpi_id", "scope_key", "bucket", "bucket_start", "count", "sum", "min", "max")) == first
    assert Observation.objects.count() == remaining
    assert report["service"]["observations"] == 0


def test_nothing_is_pruned_without_its_rollup(data):
    prune("service", NOW)
    assert Observation.objects.filter(kpi=data["latency"]).count() == 4


def test_a_snapshot_keeps_valid_evidence_after_its_observations_are_pruned(data):
    compute_snapshots(OLD_DAY, company=data["service"].domain.company)
    apply_retention(NOW)
    snapshot = ScoreSnapshot.objects.get(day=OLD_DAY, service=data["service"])
    evidence = snapshot_evidence(snapshot)["latency"]
    assert evidence["observations"] == [] and evidence["pruned"] == 3
    assert sum(rollup.count for rollup in evidence["rollups"]) == 3
    assert sum(rollup.sum for rollup in evidence["rollups"]) / 3 == snapshot.kpis["latency"]["value"]


def test_an_observation_that_is_a_breachs_evidence_is_never_pruned(data):
    evidence = Observation.objects.filter(kpi=data["latency"]).order_by("observed_at").first()
    breach = Breach.objects.create(
        kpi=data["latency"], company=evidence.company, domain=evidence.domain, service=evidence.service,
        started_at=evidence.observed_at, opened_at=evidence.observed_at, critical_threshold=60, worst_value=evidence.value,
    )
    breach.observations.add(evidence)
    apply_retention(NOW)
    assert list(breach.observations.all()) == [evidence]
    assert Observation.objects.filter(kpi=data["latency"]).count() == 2
    # The evidence left in a pruned bucket does not shrink that bucket's rollup on the next run.
    apply_retention(NOW)
    assert ObservationRollup.objects.get(kpi=data["latency"], bucket_start=OLD).count == 2
