"""A calculator that computes runs of days in one statement gives every day what it gives that day computed alone."""
import datetime
from io import StringIO

import pytest
from django.core.management import call_command

from demo.incidents import seed_demo
from demo.period import demo_period
from incidents.services import correlate_alerts
from kpis.calculators import CALCULATORS, Period
from kpis.choices import ObservationSource
from kpis.models import Observation
from kpis.observations import compute_observations

pytestmark = pytest.mark.slow  # three weeks of the demo's history

DAYS = 21
MANY_DAY_SLUGS = sorted(slug for slug, calc in CALCULATORS.items() if calc.many_days)


@pytest.fixture
def demo_history(db):
    """The demo's incidents, alerts and every connector's data (as `make run` loads them), over three weeks."""
    call_command("kpi", "load-catalogue", stdout=StringIO())
    seed_demo(companies=2, incidents=300, alerts=3000, days=DAYS)
    call_command("seed_demo_sources", companies=2, days=DAYS, stdout=StringIO())
    correlate_alerts()
    return Period(*demo_period(DAYS))


def stored(slug):
    return {
        (company, observed_at): value
        for company, observed_at, value in Observation.objects.filter(kpi__slug=slug).values_list("company_id", "observed_at", "value")
    }


def test_many_day_calculators_give_each_day_of_a_run_what_they_give_it_alone(demo_history, monkeypatch):
    # Runs of 8 days: the 21 days are cut twice, so a window crossing a run's start is computed both ways.
    monkeypatch.setattr("kpis.calculators.registry.DAYS_PER_STATEMENT", 8)
    assert {"p1-incident-count", "mttr-reduction", "self-healed", "noise-reduction", "patch-compliance"} <= set(MANY_DAY_SLUGS)
    for slug in MANY_DAY_SLUGS:
        compute_observations(slug, since=demo_history.start, until=demo_history.end, source=ObservationSource.BACKFILL, run="runs")
        in_runs = stored(slug)
        Observation.objects.filter(kpi__slug=slug).delete()
        for day in demo_history.days():
            compute_observations(slug, since=day.start, until=day.end, source=ObservationSource.BACKFILL, run="days")
        one_by_one = stored(slug)

        assert in_runs, f"{slug}: the demo history gives it no value"
        assert in_runs == pytest.approx(one_by_one), slug
        assert len({observed_at for _, observed_at in in_runs}) > DAYS // 2, slug  # most days, not one run's first
        assert all(observed_at.time() == datetime.time.min for _, observed_at in in_runs), slug
