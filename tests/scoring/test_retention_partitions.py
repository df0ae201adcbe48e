"""
Retention on PostgreSQL drops whole months: of observations once rolled up and past every raw retention, of alerts
once past ALERT_RETENTION_DAYS and covered by the methodology's daily totals.
"""
import datetime
import json

import pytest
from django.conf import settings
from django.db.models import Sum

from incidents.models import Alert, Incident
from incidents.partitions import ALERT_MONTHS
from kpis.daily_totals import refresh
from kpis.models import Observation
from kpis.partitions import OBSERVATION_MONTHS
from scoring.models import Breach, ObservationRollup
from scoring.retention import apply_retention
from tests.helpers import sqlite_manage
from tests.incidents.factories import AlertFactory, IncidentFactory
from tests.kpis.factories import KpiDefinitionFactory, ObservationFactory
from tests.tenancy.factories import CompanyFactory, ServiceFactory

UTC = datetime.timezone.utc
NOW = datetime.datetime(2025, 6, 15, 1, tzinfo=UTC)
FEBRUARY = datetime.date(2025, 2, 1)  # ends 106 days before NOW: past every class's raw retention (90 days at most)
MARCH = datetime.date(2025, 3, 1)  # ends 76 days before NOW: security metrics keep it raw

SQLITE_SCRIPT = "from tests.scoring.test_retention_partitions import alert_retention_example; print(alert_retention_example())"

pytestmark = pytest.mark.django_db


def at(month, day, hour=10):
    return datetime.datetime(month.year, month.month, day, hour, tzinfo=UTC)


@pytest.fixture
def observations():
    """Service-metric observations in February and March, and their months' partitions."""
    service = ServiceFactory(domain__company=CompanyFactory(slug="comp-acme"))
    latency = KpiDefinitionFactory(slug="latency", retention_class="service")
    scope = {"company": service.domain.company, "domain": service.domain, "service": service}
    for month in (FEBRUARY, MARCH):
        for day, value in [(3, 10), (3, 30), (20, 50)]:
            ObservationFactory(kpi=latency, observed_at=at(month, day, hour=10 + value // 10), value=value, **scope)
    OBSERVATION_MONTHS.create_months(NOW, settings.PARTITION_MONTHS_AHEAD)
    return latency


def test_a_rolled_up_month_past_every_raw_retention_is_dropped_whole(observations):
    report = apply_retention(NOW)

    assert report["observation_months"] == {FEBRUARY: 3}
    assert FEBRUARY not in OBSERVATION_MONTHS.months() and MARCH in OBSERVATION_MONTHS.months()
    assert not Observation.objects.filter(observed_at__lt=at(MARCH, 1, 0)).exists()
    # Its values live on in the rollup; March, still within security's raw retention, went row by row.
    february = ObservationRollup.objects.filter(kpi=observations, bucket_start__lt=at(MARCH, 1, 0))
    assert february.aggregate(count=Sum("count"), sum=Sum("sum")) == {"count": 3, "sum": 90.0}
    assert report["service"]["observations"] == 3 and not Observation.objects.exists()
    assert apply_retention(NOW)["observation_months"] == {}


def test_a_month_holding_a_breachs_evidence_is_pruned_row_by_row_and_keeps_the_evidence(observations):
    evidence = Observation.objects.filter(observed_at__lt=at(MARCH, 1, 0)).order_by("observed_at").first()
    breach = Breach.objects.create(
        kpi=observations, company=evidence.company, domain=evidence.domain, service=evidence.service,
        started_at=evidence.observed_at, opened_at=evidence.observed_at, critical_threshold=5, worst_value=evidence.value,
    )
    breach.observations.add(evidence)

    report = apply_retention(NOW)

    assert report["observation_months"] == {}
    assert FEBRUARY in OBSERVATION_MONTHS.months()
    assert list(breach.observations.all()) == [evidence]
    assert list(Observation.objects.all()) == [evidence]


FEBRUARY_2024, MARCH_2024 = datetime.date(2024, 2, 1), datetime.date(2024, 3, 1)  # past 400 days at NOW


def make_old_alerts():
    """An incident with alerts on 5 and 6 February 2024, an alert on 2 March 2024, and their months' partitions."""
    incident = IncidentFactory(detected_at=at(FEBRUARY_2024, 5), title="Disk full on web-1")
    for day in (5, 6):
        AlertFactory(company=incident.company, incident=incident, issued_at=at(FEBRUARY_2024, day))
    AlertFactory(company=incident.company, issued_at=at(MARCH_2024, 2))
    ALERT_MONTHS.create_months(NOW, settings.PARTITION_MONTHS_AHEAD)
    return incident


def alert_retention_example():
    """make_old_alerts with February's daily totals stored, after retention: JSON text, the same on PostgreSQL and SQLite."""
    incident = make_old_alerts()
    refresh([datetime.date(2024, 2, 5), datetime.date(2024, 2, 6)], [incident.company_id])
    report = apply_retention(NOW)
    return json.dumps({
        "alert_months": {month.isoformat(): count for month, count in report["alert_months"].items()},
        "alerts": [issued.isoformat() for issued in Alert.objects.values_list("issued_at", flat=True)],
        "incident": Incident.objects.get(pk=incident.pk).title,
    })


@pytest.fixture
def old_alerts():
    return make_old_alerts()


def test_alert_months_past_retention_go_once_the_daily_totals_cover_them_and_incidents_stay(old_alerts):
    assert apply_retention(NOW)["alert_months"] == {}  # no totals stored yet for those days
    refresh([datetime.date(2024, 2, 5), datetime.date(2024, 2, 6)], [old_alerts.company_id])

    report = apply_retention(NOW)

    assert report["alert_months"] == {FEBRUARY_2024: 2}
    assert FEBRUARY_2024 not in ALERT_MONTHS.months() and MARCH_2024 in ALERT_MONTHS.months()
    assert list(Alert.objects.values_list("issued_at", flat=True)) == [at(MARCH_2024, 2)]
    assert Incident.objects.get(pk=old_alerts.pk).title == "Disk full on web-1"


def test_alerts_within_retention_stay_whatever_the_totals(old_alerts):
    days = [datetime.date(2024, 2, 5), datetime.date(2024, 2, 6), datetime.date(2024, 3, 2)]
    refresh(days, [old_alerts.company_id])

    assert apply_retention(at(datetime.date(2025, 3, 1), 1))["alert_months"] == {}
    assert Alert.objects.count() == 3


@pytest.mark.slow  # migrations and retention through manage.py on SQLite
def test_sqlite_keeps_plain_tables_and_deletes_the_same_alerts(db, tmp_path):
    on_postgresql = json.loads(alert_retention_example())
    manage = sqlite_manage(tmp_path)
    manage("migrate", "--no-input")
    on_sqlite = json.loads(manage("shell", "--no-imports", "-c", SQLITE_SCRIPT))

    assert on_postgresql == {"alert_months": {"2024-02-01": 2}, "alerts": ["2024-03-02T10:00:00+00:00"], "incident": "Disk full on web-1"}
    assert on_sqlite == on_postgresql
