import datetime

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command

from incidents import services, tasks
from incidents.choices import AlertSeverity, IncidentStatus, Severity
from incidents.models import Alert, CorrelationConfig, Incident
from tests.companyos.factories import BASE_TIME, UserFactory
from tests.incidents.factories import AlertFactory, IncidentFactory
from tests.tenancy.factories import CompanyFactory, ServiceFactory

pytestmark = pytest.mark.django_db


def at(minutes):
    return BASE_TIME + datetime.timedelta(minutes=minutes)


def make_alerts(company, specs):
    """Alerts from (asset, signature, minutes after BASE_TIME[, severity]) tuples, in the order given."""
    return [
        AlertFactory(company=company, asset=asset, signature=signature, issued_at=at(minutes), severity=severity[0] if severity else AlertSeverity.WARNING)
        for asset, signature, minutes, *severity in specs
    ]


def grouping(company):
    """The company's alerts as a set of groups, each a frozenset of (asset, signature, minute) of its alerts."""
    groups = {}
    for alert in Alert.objects.filter(company=company):
        minute = (alert.issued_at - BASE_TIME).total_seconds() / 60
        groups.setdefault(alert.incident_id, set()).add((alert.asset, alert.signature, minute))
    return {frozenset(group) for group in groups.values()}


def test_alerts_with_the_same_key_within_the_window_become_one_incident():
    company = CompanyFactory(slug="comp-acme")
    make_alerts(
        company,
        [
            ("web-1", "disk_full", 0),
            ("web-1", "disk_full", 5),
            ("web-1", "disk_full", 14),
            ("web-1", "disk_full", 30),  # 16 minutes after the previous one: a new incident
            ("web-1", "disk_full", 40),
            ("web-2", "disk_full", 2),  # another asset
            ("web-1", "cpu_high", 3),  # another signature
            ("web-1", "cpu_high", 10),
            ("db-1", "disk_full", 100),
            ("db-1", "disk_full", 200),
        ],
    )

    created = services.correlate_alerts(company=company, until=at(24 * 60))

    assert created == 6
    assert grouping(company) == {
        frozenset({("web-1", "disk_full", 0), ("web-1", "disk_full", 5), ("web-1", "disk_full", 14)}),
        frozenset({("web-1", "disk_full", 30), ("web-1", "disk_full", 40)}),
        frozenset({("web-2", "disk_full", 2)}),
        frozenset({("web-1", "cpu_high", 3), ("web-1", "cpu_high", 10)}),
        frozenset({("db-1", "disk_full", 100)}),
        frozenset({("db-1", "disk_full", 200)}),
    }
    assert not Alert.objects.filter(incident__isnull=True).exists()


def test_a_correlated_incident_describes_its_first_and_most_severe_alert():
    company = CompanyFactory(slug="comp-acme")
    service = ServiceFactory(domain__company=company)
    first = AlertFactory(company=company, service=service, asset="neo4j-1", signature="disk_full", issued_at=at(0), severity=AlertSeverity.WARNING)
    AlertFactory(company=company, asset="neo4j-1", signature="disk_full", issued_at=at(4), severity=AlertSeverity.CRITICAL)
    AlertFactory(company=company, asset="neo4j-1", signature="disk_full", issued_at=at(8), severity=AlertSeverity.INFO)

    services.correlate_alerts(company=company, until=at(60))

    incident = Incident.objects.get(company=company)
    assert incident.external_id == f"alert-{first.pk}"
    assert incident.title == "disk_full on neo4j-1"
    assert incident.severity == Severity.P1
    assert incident.detected_at == first.issued_at
    assert incident.service == service
    assert incident.status == IncidentStatus.OPEN
    assert incident.correlation_key == "neo4j-1|disk_full"
    assert incident.alerts.count() == 3


def test_an_alert_exactly_one_window_after_the_previous_joins_it_and_one_second_more_does_not():
    company = CompanyFactory(slug="comp-acme")
    make_alerts(company, [("web-1", "disk_full", 0), ("web-1", "disk_full", 15)])
    AlertFactory(company=company, asset="web-1", signature="disk_full", issued_at=at(30) + datetime.timedelta(seconds=1))

    assert services.correlate_alerts(company=company, until=at(60)) == 2
    assert grouping(company) == {
        frozenset({("web-1", "disk_full", 0), ("web-1", "disk_full", 15)}),
        frozenset({("web-1", "disk_full", 30 + 1 / 60)}),
    }


def test_each_company_is_correlated_with_its_own_window_and_key():
    acme = CompanyFactory(slug="comp-acme")
    globex = CompanyFactory(slug="comp-globex")
    services.create_correlation_config(globex, actor=None, reason="Tighter grouping", aggregation_key="signature", time_window_minutes=5)
    specs = [("web-1", "disk_full", 0), ("web-2", "disk_full", 3), ("web-1", "disk_full", 10)]
    make_alerts(acme, specs)
    make_alerts(globex, specs)

    services.correlate_alerts(until=at(60))

    # acme: asset|signature within 15 minutes; globex: signature alone within 5 minutes.
    assert grouping(acme) == {
        frozenset({("web-1", "disk_full", 0), ("web-1", "disk_full", 10)}),
        frozenset({("web-2", "disk_full", 3)}),
    }
    assert grouping(globex) == {
        frozenset({("web-1", "disk_full", 0), ("web-2", "disk_full", 3)}),
        frozenset({("web-1", "disk_full", 10)}),
    }
    assert set(Incident.objects.filter(company=globex).values_list("correlation_key", flat=True)) == {"disk_full"}


def test_running_correlation_again_creates_nothing_new():
    company = CompanyFactory(slug="comp-acme")
    make_alerts(company, [("web-1", "disk_full", 0), ("web-1", "disk_full", 5), ("web-2", "cpu_high", 7)])
    services.correlate_alerts(company=company, until=at(60))
    before = grouping(company)

    assert services.correlate_alerts(company=company, until=at(60)) == 0
    assert services.correlate_alerts(until=at(60)) == 0
    assert Incident.objects.count() == 2
    assert grouping(company) == before


def test_only_alerts_issued_before_until_are_correlated():
    company = CompanyFactory(slug="comp-acme")
    make_alerts(company, [("web-1", "disk_full", 0), ("web-1", "disk_full", 10)])

    services.correlate_alerts(company=company, until=at(10))

    assert Alert.objects.filter(incident__isnull=True).count() == 1


def test_correlating_day_by_day_gives_the_same_incidents_as_all_at_once():
    at_once = CompanyFactory(slug="comp-at-once")
    daily = CompanyFactory(slug="comp-daily")
    midnight = 24 * 60
    specs = [
        ("web-1", "disk_full", midnight - 20),
        ("web-1", "disk_full", midnight - 8),
        ("web-1", "disk_full", midnight + 3, AlertSeverity.CRITICAL),  # continues yesterday's incident, and raises it
        ("web-1", "disk_full", midnight + 17),
        ("web-1", "disk_full", midnight + 40),
        ("web-2", "cpu_high", midnight - 1),
        ("web-2", "cpu_high", 2 * midnight + 1),
        ("db-1", "disk_full", 2 * midnight - 14),
        ("db-1", "disk_full", 2 * midnight + 1),
        ("db-1", "disk_full", 2 * midnight + 16),
    ]
    make_alerts(at_once, specs)
    make_alerts(daily, specs)

    created_at_once = services.correlate_alerts(company=at_once, until=at(3 * midnight))
    created_daily = sum(services.correlate_alerts(company=daily, until=at(day * midnight)) for day in (1, 2, 3))

    assert created_daily == created_at_once == 5
    assert grouping(daily) == grouping(at_once)

    def incidents(company):
        return sorted(Incident.objects.filter(company=company).values_list("title", "severity", "detected_at", "correlation_key"))

    assert incidents(daily) == incidents(at_once)


def test_alerts_of_incidents_not_created_by_correlation_are_never_joined():
    company = CompanyFactory(slug="comp-acme")
    reported = IncidentFactory(service__domain__company=company, external_id="PD-1")
    AlertFactory(company=company, asset="web-1", signature="disk_full", issued_at=at(0), incident=reported)
    make_alerts(company, [("web-1", "disk_full", 5)])

    assert services.correlate_alerts(company=company, until=at(60)) == 1
    assert reported.alerts.count() == 1


def test_a_company_with_auto_correlate_off_is_skipped_by_the_scheduled_run_but_not_when_named():
    company = CompanyFactory(slug="comp-acme")
    services.create_correlation_config(company, actor=None, reason="Manual triage only", auto_correlate=False)
    make_alerts(company, [("web-1", "disk_full", 0)])

    assert services.correlate_alerts(until=at(60)) == 0
    assert services.correlate_alerts(company=company, until=at(60)) == 1


def test_the_task_and_the_command_correlate_like_the_service(capsys):
    acme = CompanyFactory(slug="comp-acme")
    globex = CompanyFactory(slug="comp-globex")
    make_alerts(acme, [("web-1", "disk_full", 0), ("web-1", "disk_full", 5)])
    make_alerts(globex, [("web-1", "disk_full", 0)])

    assert tasks.correlate_alerts.delay(acme.pk, at(60).isoformat()).get() == 1
    call_command("correlate_alerts", "--company", "comp-globex", "--until", at(60).isoformat())

    assert "1 incidents created." in capsys.readouterr().out
    assert not Alert.objects.filter(incident__isnull=True).exists()


def test_changing_a_correlation_config_records_who_and_why():
    user = UserFactory(username="mim-lead")
    config = services.create_correlation_config(CompanyFactory(slug="comp-acme"), actor=user, reason="Onboarding")

    services.change_correlation_config(config, actor=user, reason="Too many duplicate pages", time_window_minutes=10)

    latest = config.history.latest()
    assert CorrelationConfig.objects.get(pk=config.pk).time_window_minutes == 10
    assert (latest.history_user, latest.history_change_reason, latest.time_window_minutes) == (user, "Too many duplicate pages", 10)
    assert config.history.count() == 2


def test_a_correlation_config_change_without_a_reason_is_refused():
    config = services.create_correlation_config(CompanyFactory(slug="comp-acme"), actor=None, reason="Onboarding")

    with pytest.raises(ValidationError) as refused:
        services.change_correlation_config(config, actor=None, reason=" ", time_window_minutes=10)

    assert "change_reason" in refused.value.message_dict
    assert CorrelationConfig.objects.get(pk=config.pk).time_window_minutes == 15


def test_an_aggregation_key_with_an_unknown_field_is_refused_naming_it():
    config = services.create_correlation_config(CompanyFactory(slug="comp-acme"), actor=None, reason="Onboarding")

    with pytest.raises(ValidationError) as refused:
        services.change_correlation_config(config, actor=None, reason="Group by host", aggregation_key="asset|hostname")

    assert "hostname" in refused.value.message_dict["aggregation_key"][0]
    assert CorrelationConfig.objects.get(pk=config.pk).aggregation_key == "asset|signature"


def test_a_config_field_that_is_not_editable_is_refused_naming_it():
    config = services.create_correlation_config(CompanyFactory(slug="comp-acme"), actor=None, reason="Onboarding")

    with pytest.raises(ValidationError) as refused:
        services.change_correlation_config(config, actor=None, reason="Move", company=CompanyFactory(slug="comp-other"))

    assert "company" in refused.value.message_dict


def test_a_correlation_config_is_changed_in_the_admin_only_with_a_reason(client, superuser):
    config = services.create_correlation_config(CompanyFactory(slug="comp-acme"), actor=None, reason="Onboarding")
    client.force_login(superuser)
    url = f"/admin/incidents/correlationconfig/{config.pk}/change/"
    form = {"aggregation_key": "asset|signature|source", "time_window_minutes": "10", "auto_correlate": "on"}

    refused = client.post(url, {**form, "change_reason": ""})
    saved = client.post(url, {**form, "change_reason": "Split alerts by source"})

    assert refused.status_code == 200 and "change_reason" in refused.context["adminform"].form.errors
    assert saved.status_code == 302
    latest = config.history.latest()
    assert (latest.aggregation_key, latest.history_change_reason, latest.history_user) == (
        "asset|signature|source", "Split alerts by source", superuser,
    )


def test_an_invalid_aggregation_key_is_refused_in_the_admin_naming_the_field(client, superuser):
    client.force_login(superuser)
    company = CompanyFactory(slug="comp-acme")

    response = client.post(
        "/admin/incidents/correlationconfig/add/",
        {"company": company.pk, "aggregation_key": "asset|host", "time_window_minutes": "15", "change_reason": "Onboarding"},
    )

    assert "host" in response.context["adminform"].form.errors["aggregation_key"][0]
    assert not CorrelationConfig.objects.exists()
