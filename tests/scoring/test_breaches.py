"""Breaches open after the KPI's configured duration beyond critical, close on recovery, notify the owner once."""
import datetime

import pytest
from django.core import mail

from scoring.breaches import evaluate_breaches
from scoring.models import Breach
from tests.companyos.factories import UserFactory
from tests.kpis.factories import KpiDefinitionFactory, ObservationFactory
from tests.tenancy.factories import CompanyFactory, ServiceFactory

DAY = datetime.date(2024, 1, 15)
START = datetime.datetime(2024, 1, 15, 10, tzinfo=datetime.timezone.utc)

pytestmark = pytest.mark.django_db


def minutes(n):
    return START + datetime.timedelta(minutes=n)


@pytest.fixture
def burn_rate():
    """The seed's SLOBudgetBurning rule: error budget burn > 6x for 5m."""
    owner = UserFactory(username="sre-lead", email="sre-lead@example.com")
    return KpiDefinitionFactory(
        slug="error-budget-burn-rate", direction="lower", target=1, critical_threshold=6, units="ratio",
        breach_after=datetime.timedelta(minutes=5), owner=owner,
    )


@pytest.fixture
def service():
    return ServiceFactory(domain__company=CompanyFactory(slug="comp-acme"))


def observe(kpi, service, values):
    """One observation per minute from START."""
    return [
        ObservationFactory(kpi=kpi, company=service.domain.company, domain=service.domain, service=service, observed_at=minutes(i), value=v)
        for i, v in enumerate(values)
    ]


def test_a_value_beyond_critical_for_less_than_the_duration_opens_no_breach(burn_rate, service):
    observe(burn_rate, service, [2, 7, 8, 9, 9, 3])  # beyond from minute 1 to 4: 3 minutes
    evaluate_breaches(DAY, company=service.domain.company)
    assert not Breach.objects.exists()


def test_exactly_at_critical_is_not_beyond_it(burn_rate, service):
    observe(burn_rate, service, [6, 6, 6, 6, 6, 6, 6])
    evaluate_breaches(DAY, company=service.domain.company)
    assert not Breach.objects.exists()


def test_a_breach_opens_after_the_duration_and_closes_when_the_value_recovers(burn_rate, service, django_capture_on_commit_callbacks):
    observations = observe(burn_rate, service, [2, 7, 8, 9, 9, 7, 12, 3, 2])  # beyond from minute 1 to 6, back at 7
    with django_capture_on_commit_callbacks(execute=True):
        evaluate_breaches(DAY, company=service.domain.company)
    breach = Breach.objects.get()
    assert breach.service == service
    assert (breach.started_at, breach.opened_at, breach.closed_at) == (minutes(1), minutes(6), minutes(7))
    assert breach.worst_value == 12
    assert sorted(breach.observations.values_list("pk", flat=True)) == [o.pk for o in observations[1:7]]
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["sre-lead@example.com"]
    assert "error-budget-burn-rate" in mail.outbox[0].body


def test_re_evaluating_a_day_neither_duplicates_a_breach_nor_notifies_again(burn_rate, service, django_capture_on_commit_callbacks):
    observe(burn_rate, service, [7, 7, 7, 7, 7, 7])
    for _ in range(2):
        with django_capture_on_commit_callbacks(execute=True):
            evaluate_breaches(DAY, company=service.domain.company)
    breach = Breach.objects.get()
    assert breach.closed_at is None and breach.notified_at is not None
    assert len(mail.outbox) == 1


def test_an_open_breach_continues_into_the_next_day_and_closes_there(burn_rate, service):
    company = service.domain.company
    observe(burn_rate, service, [7] * 6)
    evaluate_breaches(DAY, company=company)
    next_day = datetime.datetime(2024, 1, 16, 9, tzinfo=datetime.timezone.utc)
    for minute, value in [(0, 8), (1, 9), (2, 1)]:
        ObservationFactory(kpi=burn_rate, company=company, domain=service.domain, service=service, value=value,
                           observed_at=next_day + datetime.timedelta(minutes=minute))
    evaluate_breaches(DAY + datetime.timedelta(days=1), company=company)
    breach = Breach.objects.get()
    assert breach.started_at == minutes(0)
    assert breach.closed_at == next_day + datetime.timedelta(minutes=2)


def test_a_higher_is_better_kpi_breaches_below_its_critical_threshold(service):
    slo = KpiDefinitionFactory(slug="slo-attainment", direction="higher", target=99.9, critical_threshold=99.5, units="percent",
                               breach_after=datetime.timedelta(minutes=5))
    observe(slo, service, [99.9, 99.4, 99.0, 99.2, 99.3, 99.1, 99.4, 99.95])
    evaluate_breaches(DAY, company=service.domain.company)
    breach = Breach.objects.get()
    assert (breach.opened_at, breach.closed_at, breach.worst_value) == (minutes(6), minutes(7), 99.0)
