"""The counts the methodology's dashboard reads: /api/alerts/count and /api/incidents/count, with or without the slash."""
import datetime

import pytest

from kpis import roles
from tenancy.models import Membership
from tests.helpers import client_for, member_of
from tests.incidents.factories import AlertFactory, IncidentFactory
from tests.tenancy.factories import CompanyFactory, DomainFactory, ServiceFactory

END = datetime.datetime(2024, 1, 16, tzinfo=datetime.timezone.utc)
HOUR = datetime.timedelta(hours=1)


def company_with_history(slug, alerts, incidents):
    """`alerts` alerts and `incidents` incidents an hour apart before END, and one of each 3 days before."""
    company = CompanyFactory(slug=slug)
    service = ServiceFactory(domain=DomainFactory(company=company))
    for number in range(alerts):
        AlertFactory(company=company, issued_at=END - (number + 1) * HOUR)
    for number in range(incidents):
        IncidentFactory(service=service, detected_at=END - (number + 1) * HOUR)
    AlertFactory(company=company, issued_at=END - 72 * HOUR)
    IncidentFactory(service=service, detected_at=END - 72 * HOUR)
    return company


@pytest.mark.separate_tenants
@pytest.mark.parametrize("path", ["/api/alerts/count", "/api/alerts/count/", "/api/incidents/count", "/api/incidents/count/"])
def test_counts_are_of_the_period_and_the_callers_company_only(db, path):
    acme = company_with_history("comp-acme", alerts=10, incidents=4)
    company_with_history("comp-globex", alerts=7, incidents=3)
    executive = member_of(roles.EXECUTIVES)
    Membership.objects.create(user=executive, company=acme)
    client = client_for(executive)
    expected = 10 if "alerts" in path else 4

    day = client.get(path, {"company_id": "comp-acme", "timeRange": "24h", "until": END.isoformat()})
    week = client.get(path, {"company_id": "comp-acme", "timeRange": "7d", "until": END.isoformat()})
    globex = client.get(path, {"company_id": "comp-globex", "timeRange": "7d", "until": END.isoformat()})

    assert day.status_code == 200, day.content
    assert day.json() == {
        "company_id": "comp-acme",
        "measurement_period": {"start": "2024-01-15T00:00:00+00:00", "end": "2024-01-16T00:00:00+00:00", "range": "24h"},
        "count": expected,
    }
    assert week.json()["count"] == expected + 1
    assert globex.status_code == 404


def test_noise_reduction_from_the_two_counts_as_the_dashboard_computes_it(db):
    company_with_history("comp-acme", alerts=20, incidents=7)
    client = client_for(member_of(roles.EXECUTIVES))
    query = {"company_id": "comp-acme", "timeRange": "24h", "until": END.isoformat()}

    alerts = client.get("/api/alerts/count", query).json()["count"]
    incidents = client.get("/api/incidents/count", query).json()["count"]

    assert (1 - incidents / alerts) * 100 == 65.0


def test_a_bad_time_range_or_missing_company_is_a_400_naming_it(db):
    company_with_history("comp-acme", alerts=1, incidents=1)
    client = client_for(member_of(roles.EXECUTIVES))

    bad_range = client.get("/api/alerts/count", {"company_id": "comp-acme", "timeRange": "1y"})
    no_company = client.get("/api/incidents/count", {"timeRange": "24h"})

    assert bad_range.status_code == 400 and bad_range.json()["error"]["message"].startswith("timeRange: ")
    assert no_company.status_code == 400 and no_company.json()["error"]["message"].startswith("company_id: ")
