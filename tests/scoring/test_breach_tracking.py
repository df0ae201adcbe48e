"""An open breach follows its KPI: the worst value rises, the current one moves; who is told; whole counts breach at critical."""
import datetime

import pytest
from django.core import mail

from kpis import roles
from scoring.breaches import evaluate_breaches
from tests.helpers import client_for, member_of
from tests.kpis.factories import KpiDefinitionFactory, ObservationFactory
from tests.tenancy.factories import CompanyFactory, ServiceFactory

DAY = datetime.date(2024, 1, 15)
START = datetime.datetime(2024, 1, 15, 10, tzinfo=datetime.timezone.utc)

pytestmark = pytest.mark.django_db


@pytest.fixture
def service():
    return ServiceFactory(slug="gateway", domain__slug="api", domain__company=CompanyFactory(slug="comp-acme"))


@pytest.fixture
def responder(service):
    """A responder (a member of every company, as conftest makes every user)."""
    return member_of(roles.RESPONDERS, "rita")


def observe(kpi, service, moment, value):
    return ObservationFactory(
        kpi=kpi, company=service.domain.company, domain=service.domain, service=service, observed_at=moment, value=value
    )


def evaluate(service, day=DAY):
    evaluate_breaches(day, company=service.domain.company)


def breaches_in_the_api(user, **params):
    response = client_for(user).get("/api/breaches/", {"company": "comp-acme", **params})
    assert response.status_code == 200, response.json()
    return response.json()["results"]


def test_an_open_breach_raises_its_worst_value_and_follows_the_current_one_until_it_closes(service, responder):
    p1_count = KpiDefinitionFactory(
        slug="p1-incident-count", name="P1 Incident Count", units="per_month", direction="lower", target=2,
        critical_threshold=5, breach_after=datetime.timedelta(0),
    )
    observe(p1_count, service, START, 7)
    evaluate(service)
    [breach] = breaches_in_the_api(responder)
    assert (breach["worst_value"], breach["current_value"]) == (7, 7)

    next_day = DAY + datetime.timedelta(days=1)
    observe(p1_count, service, START + datetime.timedelta(days=1), 59)
    observe(p1_count, service, START + datetime.timedelta(days=1, hours=6), 30)
    evaluate(service, next_day)
    [breach] = breaches_in_the_api(responder)
    assert (breach["kpi"], breach["scope"], breach["closed_at"]) == ("p1-incident-count", "api/gateway", None)
    assert (breach["worst_value"], breach["current_value"]) == (59, 30)
    assert breach["current_at"] == "2024-01-16T16:00:00Z"

    observe(p1_count, service, START + datetime.timedelta(days=1, hours=8), 3)
    evaluate(service, next_day)
    assert breaches_in_the_api(responder) == []
    [closed] = breaches_in_the_api(responder, state="all")
    assert (closed["worst_value"], closed["current_value"], closed["closed_at"]) == (59, 3, "2024-01-16T18:00:00Z")


def test_one_committed_secret_opens_a_breach_and_mails_the_owner(service, responder, django_capture_on_commit_callbacks):
    ciso = member_of(roles.KPI_OWNERS, "ciso", email="ciso@example.com")
    secrets = KpiDefinitionFactory(
        slug="secret-scan-violations", name="Secret Scan Violations", units="count", direction="lower", target=0,
        critical_threshold=1, dimension="security", owner=ciso,
    )
    observe(secrets, service, START, 0)
    evaluate(service)
    assert breaches_in_the_api(responder) == []

    observe(secrets, service, START + datetime.timedelta(hours=1), 1)
    with django_capture_on_commit_callbacks(execute=True):
        evaluate(service)
    [breach] = breaches_in_the_api(responder)
    assert (breach["kpi"], breach["worst_value"], breach["current_value"]) == ("secret-scan-violations", 1, 1)
    assert [message.to for message in mail.outbox] == [["ciso@example.com"]]
    assert "Secret Scan Violations" in mail.outbox[0].subject


@pytest.fixture
def ownerless_cve_age():
    return KpiDefinitionFactory(
        slug="critical-cve-age", name="Critical CVE Age", units="days", direction="lower", target=0,
        critical_threshold=7, owner=None, owner_role="CISO",
    )


def test_a_breach_of_a_definition_without_an_owner_mails_the_group_of_its_owner_role(
    service, ownerless_cve_age, django_capture_on_commit_callbacks
):
    for username in ("carol", "dave"):
        member_of("CISO", username, email=f"{username}@example.com")
    member_of("CISO", "no-mail", email="")
    member_of(roles.KPI_OWNERS, "someone-else", email="someone-else@example.com")
    observe(ownerless_cve_age, service, START, 12)
    with django_capture_on_commit_callbacks(execute=True):
        evaluate(service)
    assert [message.to for message in mail.outbox] == [["carol@example.com", "dave@example.com"]]
    assert "critical-cve-age" in mail.outbox[0].body and "worst value 12.0, now 12.0" in mail.outbox[0].body


def test_without_an_owner_or_role_members_the_configured_address_is_mailed(
    service, ownerless_cve_age, settings, django_capture_on_commit_callbacks
):
    settings.BREACH_NOTIFY_EMAIL = "kpi-breaches@example.com"
    observe(ownerless_cve_age, service, START, 12)
    with django_capture_on_commit_callbacks(execute=True):
        evaluate(service)
    assert [message.to for message in mail.outbox] == [["kpi-breaches@example.com"]]


def test_the_breaches_api_shows_only_kpis_the_caller_may_see_and_names_a_bad_state(service, ownerless_cve_age):
    internal = KpiDefinitionFactory(slug="pager-load", visibility="internal", direction="lower", target=1, critical_threshold=5)
    observe(ownerless_cve_age, service, START, 12)
    observe(internal, service, START, 9)
    evaluate(service)
    executive = member_of(roles.EXECUTIVES, "erin")
    assert [breach["kpi"] for breach in breaches_in_the_api(executive)] == ["critical-cve-age"]
    response = client_for(executive).get("/api/breaches/", {"company": "comp-acme", "state": "closed"})
    assert response.status_code == 400 and response.json()["error"]["message"].startswith("state: 'closed' is not a state")
