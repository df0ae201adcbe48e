"""
Alerts become incidents as they arrive: each batch is stored with the incidents it belongs to. A late alert that
bridges two incidents merges the later into the earlier; the nightly run finds nothing left to do.
"""
import datetime
import logging
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.core.management import call_command
from django.db import connection

from companyos.events import incident_data_changed

from incidents import ingestion, services
from incidents.choices import AlertSeverity, IncidentStatus, Severity
from incidents.models import Alert, Incident
from incidents.tasks import correlate_pending_alerts
from kpis import roles
from kpis.choices import ObservationSource
from kpis.observations import compute_observations
from pipeline.tasks import start_nightly_run
from tests.companyos.factories import BASE_TIME
from tests.helpers import client_for, member_of, observation_values
from tests.incidents.factories import AlertFactory, PhaseTransitionFactory
from tests.tenancy.factories import CompanyFactory

pytestmark = pytest.mark.django_db


def at(minutes):
    return BASE_TIME + datetime.timedelta(minutes=minutes)


@pytest.fixture
def acme(db):
    return CompanyFactory(slug="comp-acme")


@pytest.fixture
def sender(db):
    """A data source's token: it posts alerts and reads the incidents they made."""
    return client_for(member_of(roles.DATA_SOURCES, "monitoring"))


@pytest.fixture
def arrive(django_capture_on_commit_callbacks):
    """Ingest a batch of alerts of `company` from (asset, signature, minute[, severity]) tuples, as the API does."""
    def arrive(company, *specs):
        alerts = [
            Alert(company=company, asset=asset, signature=signature, issued_at=at(minute), source="cloudwatch",
                  severity=severity[0] if severity else AlertSeverity.WARNING, external_id=f"{asset}-{signature}-{minute}")
            for asset, signature, minute, *severity in specs
        ]
        with django_capture_on_commit_callbacks(execute=True):
            ingestion.ingest_alerts(alerts)
    return arrive


@pytest.fixture
def announced():
    """The incident_data_changed announcements made while the test runs: (sender name, company id, days)."""
    made = []

    def record(sender, company_id, days, **kwargs):
        made.append((sender.__name__, company_id, days))

    incident_data_changed.connect(record)
    yield made
    incident_data_changed.disconnect(record)


def alert_rows_written():
    """Rows inserted into and updated in the alert table (and its partitions) by the current transaction."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT COALESCE(SUM(n_tup_ins), 0), COALESCE(SUM(n_tup_upd), 0) FROM pg_stat_xact_user_tables "
            "WHERE relname LIKE 'incidents_alert%%'"
        )
        return tuple(cursor.fetchone())


def api_alert(**fields):
    return {
        "company": "comp-acme", "asset": "web-1", "signature": "disk_full", "severity": "high",
        "issued_at": "2024-01-15T10:00:00Z", "source": "cloudwatch", "external_id": "cw-1", **fields,
    }


def test_an_incident_exists_as_soon_as_the_alerts_api_answers(acme, sender, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = sender.post("/api/alerts/", [api_alert(), api_alert(external_id="cw-2", issued_at="2024-01-15T10:04:00Z")], format="json")

    assert response.status_code == 201, response.json()
    listed = sender.get("/api/incidents/").json()["results"]
    assert [(incident["title"], incident["severity"], incident["detected_at"]) for incident in listed] == [
        ("disk_full on web-1", Severity.P2, "2024-01-15T10:00:00Z")
    ]
    assert not Alert.objects.filter(incident=None).exists()


def test_an_incident_exists_as_soon_as_alertmanager_delivered(acme, sender, django_capture_on_commit_callbacks):
    body = {
        "version": "4", "receiver": "companyos", "status": "firing", "groupKey": "{}", "commonLabels": {},
        "alerts": [{
            "status": "firing", "labels": {"alertname": "DiskFull", "severity": "critical", "company": "comp-acme",
                                           "instance": "web-1:9100"},
            "startsAt": "2024-01-15T10:00:00Z", "endsAt": "0001-01-01T00:00:00Z", "fingerprint": "fp-1",
        }],
    }

    with django_capture_on_commit_callbacks(execute=True):
        response = sender.post("/api/webhooks/alertmanager/", body, format="json")

    assert response.status_code == 200, response.json()
    incident = Incident.objects.get(company=acme)
    assert (incident.title, incident.severity, incident.status) == ("DiskFull on web-1:9100", Severity.P1, IncidentStatus.OPEN)


def test_alerts_of_a_company_correlated_only_on_request_wait_for_the_command(acme, sender, django_capture_on_commit_callbacks):
    services.create_correlation_config(acme, actor=None, reason="Manual triage only", auto_correlate=False)
    with django_capture_on_commit_callbacks(execute=True):
        sender.post("/api/alerts/", [api_alert()], format="json")

    assert not Incident.objects.exists()
    assert correlate_pending_alerts.delay(at(24 * 60).isoformat()).get() == {
        "pending_alerts": 1, "incidents_created": 0, "left_to_command": {"comp-acme": 1}
    }
    call_command("correlate_alerts", "--company", "comp-acme")
    assert Incident.objects.filter(company=acme).count() == 1


def test_the_nightly_check_finds_nothing_pending_after_ingestion_and_correlates_bulk_inserted_alerts(acme, arrive):
    arrive(acme, ("web-1", "disk_full", 0), ("web-1", "disk_full", 5))
    assert correlate_pending_alerts.delay(at(24 * 60).isoformat()).get() == {
        "pending_alerts": 0, "incidents_created": 0, "left_to_command": {}
    }

    AlertFactory(company=acme, asset="db-1", issued_at=at(30))  # a bulk path, as the demo's, queues nothing
    assert correlate_pending_alerts.delay(at(24 * 60).isoformat()).get() == {
        "pending_alerts": 1, "incidents_created": 1, "left_to_command": {}
    }
    assert not Alert.objects.filter(incident=None).exists()


def test_the_nightly_run_reports_alerts_it_found_pending(acme, arrive, caplog):
    def reported():
        return [record.getMessage() for record in caplog.records if record.name == "incidents.services"]

    arrive(acme, ("web-1", "disk_full", 0))
    with caplog.at_level(logging.WARNING, logger="incidents.services"):
        start_nightly_run.delay(BASE_TIME.date().isoformat())
        assert reported() == []

        AlertFactory(company=acme, asset="db-1", issued_at=at(30))
        start_nightly_run.delay(BASE_TIME.date().isoformat())

    assert reported() == [
        "Correlation found 1 alerts pending before 2024-01-16T00:00:00+00:00 and made 1 incidents of them."
    ]


def test_a_late_alert_bridging_two_incidents_merges_the_later_into_the_earlier(acme, arrive, sender, computed_kpis):
    arrive(acme, ("web-1", "disk_full", 0), ("web-1", "disk_full", 5))
    arrive(acme, ("web-1", "disk_full", 30, AlertSeverity.CRITICAL), ("web-1", "disk_full", 35))
    earlier, later = Incident.objects.order_by("detected_at")
    assert (earlier.severity, later.severity) == (Severity.P3, Severity.P1)

    arrive(acme, ("web-1", "disk_full", 18))  # 13 minutes after the first incident's last alert, 12 before the second's

    assert list(Incident.objects.values_list("pk", flat=True)) == [earlier.pk]
    survivor, merged = Incident.all_objects.get(pk=earlier.pk), Incident.all_objects.get(pk=later.pk)
    assert (survivor.severity, survivor.detected_at) == (Severity.P1, at(0))
    assert merged.merged_into == survivor and not merged.alerts.exists()
    assert survivor.alerts.count() == 5
    # The list shows the survivor alone; the merged incident is still there by its id, saying where it went.
    assert [incident["id"] for incident in sender.get("/api/incidents/").json()["results"]] == [survivor.pk]
    shown = sender.get(f"/api/incidents/{merged.pk}/").json()
    assert (shown["merged_into"], shown["external_id"]) == (survivor.pk, later.external_id)
    assert len(sender.get(f"/api/incidents/{survivor.pk}/alerts/").json()["results"]) == 5
    # KPIs count it once: one P1 incident, one incident of five alerts.
    for slug in ("p1-incident-count", "noise-reduction"):
        compute_observations(slug, since=BASE_TIME.date(), until=BASE_TIME.date() + datetime.timedelta(days=1),
                             source=ObservationSource.BACKFILL, run="test")
    values = observation_values()
    assert (values["p1-incident-count"], values["noise-reduction"]) == ([1.0], [80.0])


def test_a_late_alert_before_an_incidents_first_moves_its_detection_and_description(acme, arrive):
    services.create_correlation_config(acme, actor=None, reason="One incident per signature", aggregation_key="signature")
    arrive(acme, ("web-1", "disk_full", 10), ("web-2", "disk_full", 12))

    arrive(acme, ("db-1", "disk_full", 1, AlertSeverity.HIGH))

    incident = Incident.objects.get()
    assert (incident.detected_at, incident.title, incident.severity) == (at(1), "disk_full on db-1", Severity.P2)
    assert incident.alerts.count() == 3


def test_an_incident_someone_worked_on_is_never_merged(acme, arrive):
    arrive(acme, ("web-1", "disk_full", 0))
    arrive(acme, ("web-1", "disk_full", 20))
    earlier, later = Incident.objects.order_by("detected_at")
    PhaseTransitionFactory(incident=later, phase="gather", entered_at=at(25))

    arrive(acme, ("web-1", "disk_full", 10))

    assert Incident.objects.count() == 2 and not Incident.all_objects.filter(merged_into__isnull=False).exists()
    assert earlier.alerts.count() == 2 and later.alerts.count() == 1


def test_incidents_made_with_another_aggregation_key_are_never_merged(acme, arrive):
    config = services.create_correlation_config(acme, actor=None, reason="Onboarding")
    arrive(acme, ("web-1", "disk_full", 0))
    arrive(acme, ("web-2", "disk_full", 20))
    earlier = Incident.objects.get(detected_at=at(0))
    services.change_correlation_config(config, actor=None, reason="One incident per signature", aggregation_key="signature")

    arrive(acme, ("web-3", "disk_full", 10))

    assert Incident.objects.count() == 2 and not Incident.all_objects.filter(merged_into__isnull=False).exists()
    assert earlier.alerts.count() == 2


def test_correlating_again_after_a_merge_changes_nothing(acme, arrive):
    arrive(acme, ("web-1", "disk_full", 0))
    arrive(acme, ("web-1", "disk_full", 20))
    arrive(acme, ("web-1", "disk_full", 10))
    before = list(Incident.all_objects.order_by("pk").values_list("pk", "merged_into", "severity", "detected_at"))

    assert services.correlate_alerts(company=acme) == 0

    assert list(Incident.all_objects.order_by("pk").values_list("pk", "merged_into", "severity", "detected_at")) == before
    assert set(Alert.objects.values_list("incident", flat=True)) == {before[0][0]}


def test_a_late_alert_at_the_end_of_a_days_chunk_joins_the_incident_just_after_it(acme):
    services.create_correlation_config(acme, actor=None, reason="Onboarding", time_window_minutes=30)
    AlertFactory(company=acme, issued_at=at(24 * 60 + 10))
    services.correlate_alerts(company=acme)
    later = Incident.objects.get()

    # Late: correlated from 00:00 a day at a time, the second ends the first day, 11 minutes before `later`.
    AlertFactory(company=acme, issued_at=at(0))
    AlertFactory(company=acme, issued_at=at(24 * 60 - 1))
    services.correlate_alerts(company=acme)

    assert sorted(incident.alerts.count() for incident in Incident.objects.all()) == [1, 2]
    assert later.alerts.count() == 2
    assert Incident.objects.get(pk=later.pk).detected_at == at(24 * 60 - 1)


def test_a_data_source_writing_to_a_merged_incident_updates_it_and_it_stays_merged(acme, arrive, sender):
    arrive(acme, ("web-1", "disk_full", 0))
    arrive(acme, ("web-1", "disk_full", 20))
    later = Incident.objects.order_by("detected_at").last()
    arrive(acme, ("web-1", "disk_full", 10))

    response = sender.post("/api/incidents/", {
        "company": "comp-acme", "external_id": later.external_id, "title": "Disk full, web tier", "severity": "P2",
        "detected_at": at(20).isoformat(),
    }, format="json")

    assert response.status_code == 200, response.json()
    survivor = Incident.objects.get()
    assert (response.json()["id"], response.json()["title"], response.json()["merged_into"]) == (
        later.pk, "Disk full, web tier", survivor.pk
    )
    assert survivor.alerts.count() == 3


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_correlations_of_a_company_at_once_give_the_incidents_of_one():
    acme = CompanyFactory(slug="comp-acme")
    AlertFactory(company=acme, issued_at=at(0))
    AlertFactory(company=acme, issued_at=at(20))
    services.correlate_alerts(company=acme)
    for minute in (10, 50, 60, 61):  # a bridge of both incidents, and a new one
        AlertFactory(company=acme, issued_at=at(minute))
    start = threading.Barrier(2)

    def correlate():
        try:
            start.wait()
            return services.correlate_alerts(company=acme)
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=2) as pool:
        created = sorted(pool.map(lambda _: correlate(), range(2)))

    assert created == [0, 1]
    assert sorted(incident.alerts.count() for incident in Incident.objects.all()) == [3, 3]
    assert Incident.all_objects.filter(merged_into__isnull=False).count() == 1


def test_the_admin_shows_a_merged_incident_and_where_it_went(acme, arrive, client, superuser):
    arrive(acme, ("web-1", "disk_full", 0))
    arrive(acme, ("web-1", "disk_full", 20))
    arrive(acme, ("web-1", "disk_full", 10))
    merged = Incident.all_objects.get(merged_into__isnull=False)
    client.force_login(superuser)

    page = client.get(f"/admin/incidents/incident/{merged.pk}/change/")

    assert page.status_code == 200
    assert str(merged.merged_into) in page.content.decode()
    assert client.get("/admin/incidents/incident/").context["cl"].result_count == 2


def test_arriving_alerts_are_written_once_with_their_incident(acme, sender, django_capture_on_commit_callbacks):
    before = alert_rows_written()
    with django_capture_on_commit_callbacks(execute=True):
        response = sender.post("/api/alerts/", [
            api_alert(external_id=f"cw-{minute}", issued_at=at(minute).isoformat()) for minute in (0, 5, 40)
        ], format="json")

    assert response.status_code == 201, response.json()
    inserted, updated = (after - earlier for after, earlier in zip(alert_rows_written(), before))
    assert (inserted, updated) == (3, 0)
    first, second, third = Alert.objects.order_by("issued_at")
    assert first.incident == second.incident != third.incident
    # Named by its first alert, whose id was taken before the alert was stored.
    assert first.incident.external_id == f"alert-{first.pk}" and first.pk < second.pk < third.pk


def test_alerts_stored_between_arrivals_take_ids_after_theirs(acme, arrive):
    arrive(acme, ("web-1", "disk_full", 0), ("web-1", "disk_full", 5))
    AlertFactory(company=acme, asset="db-1", issued_at=at(30))
    arrive(acme, ("web-2", "disk_full", 0))

    assert list(Alert.objects.order_by("pk").values_list("asset", flat=True)) == ["web-1", "web-1", "db-1", "web-2"]
    assert Incident.objects.get(alerts__asset="web-2").external_id == f"alert-{Alert.objects.get(asset='web-2').pk}"


def test_an_uncorrelated_stored_alert_within_an_arrivals_window_joins_its_incident(acme, arrive):
    services.create_correlation_config(acme, actor=None, reason="Correlated by hand at first", auto_correlate=False)
    stored = AlertFactory(company=acme, issued_at=at(0))
    far = AlertFactory(company=acme, issued_at=at(24 * 60))
    config = acme.correlation_config
    services.change_correlation_config(config, actor=None, reason="Correlated as alerts arrive", auto_correlate=True)

    arrive(acme, ("web-1", "disk_full", 10))

    incident = Incident.objects.get()
    assert (incident.external_id, incident.detected_at, incident.alerts.count()) == (f"alert-{stored.pk}", at(0), 2)
    far.refresh_from_db()
    assert far.incident is None  # outside the arrival's window: left to the nightly check


def test_a_company_correlated_on_request_announces_the_days_of_its_stored_alerts(acme, arrive, announced):
    services.create_correlation_config(acme, actor=None, reason="Manual triage only", auto_correlate=False)

    arrive(acme, ("web-1", "disk_full", 0), ("web-1", "disk_full", 24 * 60 + 5))

    assert announced == [("Alert", acme.pk, {at(0).date(), at(24 * 60).date()})]


def test_arrivals_announce_the_days_of_their_alerts_and_of_the_incidents_they_change(acme, arrive, announced):
    arrive(acme, ("web-1", "disk_full", 24 * 60 - 10), ("web-1", "disk_full", 24 * 60 + 2))
    assert announced == [("Incident", acme.pk, {at(0).date(), at(24 * 60).date()})]

    # Two days later, an incident of its own; then a late alert moves its detection back a day.
    arrive(acme, ("db-1", "disk_full", 3 * 24 * 60 + 5))
    arrive(acme, ("db-1", "disk_full", 3 * 24 * 60 - 5))
    assert announced[1:] == [
        ("Incident", acme.pk, {at(3 * 24 * 60).date()}),
        ("Incident", acme.pk, {at(2 * 24 * 60).date(), at(3 * 24 * 60).date()}),
    ]


def test_a_merge_announces_the_days_of_the_merged_incident_and_its_alerts(acme, arrive, announced):
    arrive(acme, ("web-1", "disk_full", 24 * 60 - 20))
    arrive(acme, ("web-1", "disk_full", 24 * 60 + 10), ("web-1", "disk_full", 24 * 60 + 20))
    announced.clear()

    arrive(acme, ("web-1", "disk_full", 24 * 60 - 5))  # bridges both: the second, of the next day, merges

    assert Incident.all_objects.filter(merged_into__isnull=False).count() == 1
    assert announced == [("Incident", acme.pk, {at(0).date(), at(24 * 60).date()})]


def test_correlating_a_stored_backlog_announces_its_days(acme, announced, django_capture_on_commit_callbacks):
    for minute in (0, 2 * 24 * 60):
        AlertFactory(company=acme, issued_at=at(minute))

    with django_capture_on_commit_callbacks(execute=True):
        services.correlate_alerts(company=acme)

    assert announced == [("Incident", acme.pk, {at(0).date(), at(2 * 24 * 60).date()})]


def test_an_arrival_of_ended_alerts_announces_the_day_its_incident_resolved(acme, announced, django_capture_on_commit_callbacks):
    alert = Alert(company=acme, asset="web-1", signature="disk_full", issued_at=at(24 * 60 - 10), source="cloudwatch",
                  severity=AlertSeverity.HIGH, external_id="ended", ended_at=at(24 * 60 + 30))

    with django_capture_on_commit_callbacks(execute=True):
        ingestion.ingest_alerts([alert])

    assert Incident.objects.get().status == IncidentStatus.RESOLVED
    assert announced == [("Incident", acme.pk, {at(0).date(), at(24 * 60).date()})]
