"""On PostgreSQL alerts and observations are partitioned by month; a period's query reads only its months."""
import datetime

import pytest
from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from companyos.partitions import add_months, month_bounds, month_start
from incidents.models import Alert
from incidents.partitions import ALERT_MONTHS
from kpis.choices import ObservationSource
from kpis.models import Observation
from kpis.observations import compute_observations
from kpis.partitions import OBSERVATION_MONTHS
from pipeline.tasks import create_month_partitions
from tests.incidents.factories import AlertFactory, IncidentFactory
from tests.kpis.factories import ObservationFactory
from tests.tenancy.factories import CompanyFactory

UTC = datetime.timezone.utc
LONG_AGO = datetime.datetime(2025, 1, 15, 9, tzinfo=UTC)


def partition_of(model, pk):
    """The table that holds the row."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT tableoid::regclass::text FROM {model._meta.db_table} WHERE id = %s", [pk])
        return cursor.fetchone()[0]


def months_from_now(count):
    first = month_start(timezone.now())
    return [add_months(first, offset) for offset in range(count + 1)]


@pytest.mark.django_db
def test_alerts_and_observations_have_this_months_partition_and_those_ahead():
    for partitions in (ALERT_MONTHS, OBSERVATION_MONTHS):
        assert partitions.is_partitioned()
        assert set(months_from_now(settings.PARTITION_MONTHS_AHEAD)) <= partitions.months().keys()
    alert = AlertFactory(issued_at=timezone.now())
    assert partition_of(Alert, alert.pk) == ALERT_MONTHS.partition_name(month_start(timezone.now()))


@pytest.mark.django_db
def test_a_load_of_past_data_gets_every_month_from_its_start_first():
    assert create_month_partitions(since="2025-01-15") is None
    months = ALERT_MONTHS.months().keys()
    assert {datetime.date(2025, month, 1) for month in range(1, 13)} <= months
    assert OBSERVATION_MONTHS.months().keys() == months
    alert = AlertFactory(issued_at=LONG_AGO + datetime.timedelta(days=200))
    assert partition_of(Alert, alert.pk) == "incidents_alert_2025_08"


@pytest.mark.django_db
def test_a_month_held_by_the_default_partition_gets_its_own_and_its_rows_move_there():
    alert = AlertFactory(issued_at=LONG_AGO)
    observation = ObservationFactory(observed_at=LONG_AGO)
    assert partition_of(Alert, alert.pk) == "incidents_alert_default"

    create_month_partitions()

    assert partition_of(Alert, alert.pk) == "incidents_alert_2025_01"
    assert partition_of(Observation, observation.pk) == "kpis_observation_2025_01"
    assert Alert.objects.get(pk=alert.pk).issued_at == LONG_AGO
    assert ALERT_MONTHS.create_months(timezone.now(), settings.PARTITION_MONTHS_AHEAD) == []


@pytest.mark.django_db
def test_a_query_for_one_month_reads_only_that_months_partition():
    month = month_start(timezone.now())
    start, end = month_bounds(month)

    plan = Alert.objects.filter(company=CompanyFactory(), issued_at__gte=start, issued_at__lt=end).explain()

    assert ALERT_MONTHS.partition_name(month) in plan
    assert ALERT_MONTHS.partition_name(add_months(month, 1)) not in plan
    assert "incidents_alert_default" not in plan


@pytest.mark.django_db
def test_an_alerts_external_id_is_unique_per_company_source_and_issue_time():
    company = CompanyFactory()
    AlertFactory(company=company, external_id="fp-1", issued_at=LONG_AGO)
    resent_later = AlertFactory(company=company, external_id="fp-1", issued_at=LONG_AGO + datetime.timedelta(hours=1))

    with pytest.raises(IntegrityError), transaction.atomic():
        AlertFactory(company=company, external_id="fp-1", issued_at=LONG_AGO)
    assert sorted(Alert.objects.filter(company=company, external_id="fp-1").values_list("issued_at", flat=True)) == [
        LONG_AGO, resent_later.issued_at
    ]


def test_a_recomputation_overwrites_its_observations_through_the_partitioned_table(computed_kpis):
    incident = IncidentFactory(detected_at=LONG_AGO, resolved_at=LONG_AGO + datetime.timedelta(minutes=45))
    day = LONG_AGO.date()
    period = {"since": day, "until": day + datetime.timedelta(days=1), "source": ObservationSource.BACKFILL}
    compute_observations("mttr", run="first", **period)
    keys = sorted(Observation.objects.filter(kpi__slug="mttr").values_list("company_id", "service_id", "incident_id", "observed_at"))
    incident.detected_at = LONG_AGO - datetime.timedelta(minutes=45)  # resolved at the same time, in 90 minutes
    incident.save()

    compute_observations("mttr", run="second", **period)

    rows = Observation.objects.filter(kpi__slug="mttr")
    assert keys and sorted(rows.values_list("company_id", "service_id", "incident_id", "observed_at")) == keys
    assert set(rows.values_list("run", flat=True)) == {"second"}
    assert 90.0 in set(rows.values_list("value", flat=True))


@pytest.fixture
def july_2023():
    """A month the migrations partition because rows fall in it; its partitions go after the test."""
    yield datetime.datetime(2023, 7, 4, 12, tzinfo=UTC)
    for partitions in (ALERT_MONTHS, OBSERVATION_MONTHS):
        if datetime.date(2023, 7, 1) in partitions.months():
            partitions.drop_month(datetime.date(2023, 7, 1))


# serialized_rollback: the flush after this test leaves the seeded rows for the transactional tests after it.
@pytest.mark.slow
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_migrating_back_gives_plain_tables_and_forward_partitioned_ones_with_their_rows_and_ids(july_2023):
    executor = MigrationExecutor(connection)
    latest = executor.loader.graph.leaf_nodes()
    alert = AlertFactory(issued_at=july_2023, external_id="fp-1")
    observation = ObservationFactory(observed_at=july_2023)

    executor.migrate([("incidents", "0008_incident_merged_into"), ("kpis", "0013_methodology_daily_totals")])
    assert not ALERT_MONTHS.is_partitioned() and not OBSERVATION_MONTHS.is_partitioned()
    with connection.cursor() as cursor:
        cursor.execute("SELECT id, external_id FROM incidents_alert")
        assert cursor.fetchall() == [(alert.pk, "fp-1")]

    executor = MigrationExecutor(connection)
    executor.migrate(latest)
    assert ALERT_MONTHS.is_partitioned() and OBSERVATION_MONTHS.is_partitioned()
    assert partition_of(Alert, alert.pk) == "incidents_alert_2023_07"
    assert partition_of(Observation, observation.pk) == "kpis_observation_2023_07"
    # The identity sequence goes on from where it was: no id is given twice.
    assert AlertFactory().pk > alert.pk and ObservationFactory().pk > observation.pk
