"""
No figure from unprocessed input: noise reduction counts what correlation made of a day's alerts, so a day with
alerts awaiting correlation has no value, and `kpi backfill` correlates the pending alerts first.
"""
import datetime
from io import StringIO

import pytest
from django.core.management import call_command

from incidents.services import correlate_alerts, create_correlation_config
from kpis.choices import ObservationSource
from kpis.models import Observation
from kpis.observations import compute_observations
from tests.helpers import moment
from tests.incidents.factories import AlertFactory
from tests.kpis.factories import KpiDefinitionFactory
from tests.tenancy.factories import CompanyFactory

pytestmark = pytest.mark.django_db

@pytest.fixture
def noise_reduction(db):
    return KpiDefinitionFactory(slug="noise-reduction", units="percent", direction="higher", target=40, critical_threshold=10)


def alerts(company, day, count, asset="web-1"):
    """`count` alerts of one key a minute apart: correlation makes one incident of them."""
    return [AlertFactory(company=company, asset=asset, issued_at=moment(day, 9, minute)) for minute in range(count)]


def noise_values():
    rows = Observation.objects.filter(kpi__slug="noise-reduction").order_by("company__slug", "observed_at")
    return [(slug, observed_at.day, round(value, 3)) for slug, observed_at, value in rows.values_list("company__slug", "observed_at", "value")]


def backfill(*args):
    out = StringIO()
    call_command("kpi", "backfill", "--kpi", "noise-reduction", "--since", "2024-01-01", "--until", "2024-01-20", *args, stdout=out)
    return out.getvalue()


def test_a_backfill_over_uncorrelated_alerts_correlates_them_first_and_never_reports_100_percent(noise_reduction):
    acme = CompanyFactory(slug="comp-acme")
    alerts(acme, 10, 4)
    output = backfill()
    assert "Correlated the pending alerts before 2024-01-20: 1 new incident(s)." in output
    assert noise_values() == [("comp-acme", 10, 75.0)]


def test_days_of_a_company_correlated_only_on_request_get_no_value_and_are_listed(noise_reduction):
    acme, quiet = CompanyFactory(slug="comp-acme"), CompanyFactory(slug="comp-quiet")
    create_correlation_config(quiet, actor=None, reason="Correlated by hand", auto_correlate=False)
    alerts(acme, 10, 4)
    alerts(quiet, 11, 3)
    alerts(quiet, 12, 2)

    output = backfill()
    assert noise_values() == [("comp-acme", 10, 75.0)]
    assert "noise-reduction: no value for comp-quiet on 2024-01-11, 2024-01-12: alerts await correlation there" in output

    output = backfill("--company", "comp-quiet")
    assert "no value for" not in output
    assert noise_values() == [("comp-acme", 10, 75.0), ("comp-quiet", 11, 66.667), ("comp-quiet", 12, 50.0)]


def test_the_calculator_gives_no_value_for_a_day_with_any_alert_awaiting_correlation(noise_reduction):
    acme = CompanyFactory(slug="comp-acme")
    alerts(acme, 10, 4)
    alerts(acme, 11, 4)
    correlate_alerts(company=acme, until=moment(11, 0))
    AlertFactory(company=acme, asset="db-1", issued_at=moment(10, 23))  # late, after correlation ran

    def nightly():
        compute_observations(
            "noise-reduction", since=datetime.date(2024, 1, 1), until=datetime.date(2024, 1, 20), source=ObservationSource.NIGHTLY, run="nightly"
        )

    nightly()
    assert noise_values() == []
    correlate_alerts(company=acme, until=moment(20, 0))
    nightly()
    assert noise_values() == [("comp-acme", 10, 60.0), ("comp-acme", 11, 75.0)]
