"""Stored snapshots are history: a day whose raw observations retention pruned is not recomputed from what is left."""
import datetime
import io

import pytest
from django.core.management import call_command

from scoring.models import ScoreSnapshot
from scoring.retention import apply_retention
from tests.kpis.factories import KpiDefinitionFactory, ObservationFactory
from tests.tenancy.factories import CompanyFactory, ServiceFactory

OLD_DAY = datetime.date(2024, 2, 1)
OLD = datetime.datetime(2024, 2, 1, 10, tzinfo=datetime.timezone.utc)
RETENTION_RUN = datetime.datetime(2024, 3, 1, 6, tzinfo=datetime.timezone.utc)  # OLD_DAY is past 15 days raw, within 30

pytestmark = pytest.mark.django_db


@pytest.fixture
def scored_old_day():
    """comp-acme on OLD_DAY: service-metric latency (pruned after 15 days) and business NRR (kept 30 days raw)."""
    service = ServiceFactory(domain__company=CompanyFactory(slug="comp-acme"))
    latency = KpiDefinitionFactory(slug="latency", retention_class="service", target=30, critical_threshold=60)
    nrr = KpiDefinitionFactory(
        slug="nrr", retention_class="business", dimension="financials", direction="higher", target=110, critical_threshold=90
    )
    scope = {"company": service.domain.company, "domain": service.domain, "service": service}
    for minute, value in [(0, 35), (20, 40), (70, 50)]:
        ObservationFactory(kpi=latency, observed_at=OLD + datetime.timedelta(minutes=minute), value=value, **scope)
    ObservationFactory(kpi=nrr, company=service.domain.company, observed_at=OLD, value=100)
    return {"service": service, "latency": latency, "nrr": nrr}


def compute_scores(*arguments):
    out = io.StringIO()
    call_command("compute_scores", "--date", OLD_DAY.isoformat(), *arguments, stdout=out)
    return out.getvalue()


def company_snapshot():
    return ScoreSnapshot.objects.get(day=OLD_DAY, level="company")


def test_recomputing_a_day_after_retention_pruned_it_keeps_the_stored_snapshot_and_says_why(scored_old_day):
    first = compute_scores()
    stored = company_snapshot()
    assert f"{OLD_DAY} comp-acme: stored 3 snapshots, composite {stored.composite:.1f}" in first
    assert stored.kpis["latency"]["observations"] == 3 and stored.inputs["definitions"].keys() == {"latency", "nrr"}

    apply_retention(RETENTION_RUN)
    output = compute_scores()

    assert company_snapshot().composite == stored.composite
    assert company_snapshot().computed_at == stored.computed_at
    assert (
        f"{OLD_DAY} comp-acme: not recomputed, kept the stored snapshots (composite {stored.composite:.1f}): "
        f"retention pruned raw observations of {OLD_DAY} (latency: 0 of 3 observations left raw, retention rule "
        "Service metrics (15 days raw, 2 years hourly))"
    ) in output
    as_of_now = compute_scores("--as-of-now")
    assert f"{OLD_DAY} comp-acme: no as-of-now scores: retention pruned raw observations of {OLD_DAY}" in as_of_now


def test_a_pruned_day_without_a_stored_snapshot_gets_none(scored_old_day):
    apply_retention(RETENTION_RUN)
    output = compute_scores()
    assert f"{OLD_DAY} comp-acme: not recomputed, stored no snapshots: retention pruned raw observations" in output
    assert not ScoreSnapshot.objects.exists()


def test_recomputing_a_day_says_what_it_replaced_and_why(scored_old_day):
    compute_scores()
    before = company_snapshot()
    service = scored_old_day["service"]
    ObservationFactory(
        kpi=scored_old_day["latency"], company=service.domain.company, domain=service.domain, service=service,
        observed_at=OLD + datetime.timedelta(hours=3), value=60,
    )
    output = compute_scores()
    after = company_snapshot()
    assert after.composite < before.composite
    assert (
        f"{OLD_DAY} comp-acme: replaced 3 snapshots, composite {before.composite:.1f} -> {after.composite:.1f} "
        "(observations counted latency 3 -> 4)"
    ) in output
    again = compute_scores()
    assert f"{OLD_DAY} comp-acme: replaced 3 snapshots, composite {after.composite:.1f} -> {after.composite:.1f} (same inputs)" in again
