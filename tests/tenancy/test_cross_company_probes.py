"""
Every API route, found in the URLconf (a new route is probed without being listed here), asked by company A's
people for company B's objects: reads answer 404 (403 without the role) or A's own data, writes are refused, and no
answer carries anything of B nor changes it.
"""
import json

import pytest
from django.urls import URLResolver, get_resolver, reverse

from tests.helpers import client_for
from tests.notifications.helpers import notifications_of
from tests.reports.helpers import stored_report_of
from tests.tenancy.helpers import INGESTED_KPI, LEAK, SECRET, SECRET_VALUE, tenant_rows

pytestmark = pytest.mark.separate_tenants

# Routes that are not about anyone's data.
UNPROBED = {"schema", "api-docs"}
# What each path parameter is given: company B's object (a route's `pk` by the router basename its name starts
# with). A route with a parameter missing here fails test_every_route_is_probed, so its author says what it names.
PATH_VALUES = {
    "incident_id": lambda world: world.globex.incident.pk,
    "integration_id": lambda world: world.globex.integration.pk,
    "slug": lambda world: "mttr",  # definitions are the portal-wide catalogue
    "persona": lambda world: "responder",
    "level": lambda world: "team",
}
PK_VALUES = {
    "incident": lambda world: world.globex.incident.pk,
    "source-event": lambda world: world.globex.event.pk,
    "prometheus-integration": lambda world: world.globex.integration.pk,
    "proposal": lambda world: 1,  # proposals are the portal-wide catalogue's
    # A person's own channels and subscriptions: a member of company B's, which company A's people may not reach.
    "notification-channel": lambda world: notifications_of(world.globex.company).channel_id,
    "notification-subscription": lambda world: notifications_of(world.globex.company).pk,
    "report": lambda world: stored_report_of(world.globex.company).pk,
}
# The routes whose path names one of company B's objects: a 404, or a 403 for a caller without the role.
OBJECT_OF_B = {
    "incident_id", "incident-pk", "source-event-pk", "prometheus-integration-pk", "report-pk", "notification-channel-pk",
    "notification-subscription-pk",
}
# Every parameter a read or write may name a company, domain or service with, all of company B.
QUERY = {"company": "comp-globex", "company_id": "comp-globex", "service": f"{LEAK}-gateway", "scope": f"{LEAK}-platform"}
# What no request sends: found in an answer, it was read from company B's rows.
SECRETS = (SECRET, str(SECRET_VALUE), str(SECRET_VALUE / 100))


def api_routes():
    """(name, pattern) of every named route under /api/ in the URLconf."""

    def walk(patterns, prefix):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                yield from walk(pattern.url_patterns, prefix + str(pattern.pattern))
            elif pattern.name:
                yield prefix + str(pattern.pattern), pattern

    return [(pattern.name, pattern) for route, pattern in walk(get_resolver().url_patterns, "")
            if route.startswith("api/") and pattern.name not in UNPROBED]


def path_parameters(name, pattern):
    """The route's path parameters, a `pk` as "<basename>-pk"."""
    named = []
    for parameter in pattern.pattern.regex.groupindex:
        if parameter == "pk":
            parameter = next((f"{kind}-pk" for kind in PK_VALUES if name.startswith(f"{kind}-")), f"{name}-pk")
        named.append(parameter)
    return named


def url_of(world, name, pattern):
    values = {**PATH_VALUES, **{f"{kind}-pk": value for kind, value in PK_VALUES.items()}}
    kwargs = {}
    for parameter in path_parameters(name, pattern):
        assert parameter in values, f"Route {name}: say in PATH_VALUES or PK_VALUES what its '{parameter}' names."
        kwargs["pk" if parameter.endswith("-pk") else parameter] = values[parameter](world)
    return reverse(name, kwargs=kwargs)


def methods(pattern):
    """The methods a route answers: a viewset's actions, or an APIView's handlers."""
    view = pattern.callback
    if hasattr(view, "actions"):
        return set(view.actions)
    return {method for method in ("get", "post", "put", "patch", "delete") if hasattr(view.cls, method)}


def leaked(response):
    body = response.content.decode(errors="replace").lower()
    return [secret for secret in SECRETS if secret in body]


def test_every_route_is_probed(world):
    routes = dict(api_routes())
    assert {"incident-detail", "incident-kpis", "score-series", "scorecard", "kpi-metrics", "observation-ingest"} <= routes.keys()
    for name, pattern in routes.items():
        assert url_of(world, name, pattern).startswith("/api/")


@pytest.mark.parametrize("who", ["reader", "executive", "feed"])
def test_reads_never_answer_company_bs_data(world, who):
    client = client_for(getattr(world, who))
    for name, pattern in api_routes():
        if "get" not in methods(pattern):
            continue
        url = url_of(world, name, pattern)
        plain = client.get(url)
        # Asked without naming B at all, not even B's slug may appear.
        assert LEAK not in plain.content.decode().lower(), f"GET {url} as {who}: {plain.status_code} {plain.content[:300]}"
        naming_b = client.get(url, QUERY)
        assert not leaked(naming_b), f"GET {url} naming company B as {who}: {naming_b.status_code} {naming_b.content[:300]}"
        if OBJECT_OF_B & set(path_parameters(name, pattern)):
            assert plain.status_code in (403, 404), f"GET {url} as {who}: {plain.status_code}"


def write_bodies(world, name):
    """(content type, body) of writes into company B, or into A naming B's incident, service or runbook execution."""
    acme, globex = world.acme, world.globex
    moment = "2024-01-15T10:00:00Z"
    if name.startswith("import-"):
        return [("text/csv", "month,customer_id,mrr_usd\n2024-01,cus_1,100\n")]
    if name.startswith("scan-upload-"):
        return [("application/json", "{}")]
    # One body with every field any write reads, all naming B; then writes into A naming B's objects.
    into_b = {
        "company": "comp-globex", "kpi": INGESTED_KPI, "observed_at": moment, "value": 1, "external_id": "x", "title": "x",
        "severity": "P2", "detected_at": moment, "asset": "a", "signature": "s", "issued_at": moment, "source": "x",
        "runbook_id": "r", "execution_id": "x", "started_at": moment, "success": True, "version": "4", "alerts": [],
        "phase": "gather", "entered_at": moment, "name": "x", "committed_eta": moment, "respondent": "x", "score": 5,
        "submitted_at": moment,
    }
    observation = {"kpi": INGESTED_KPI, "observed_at": moment, "value": 1}
    run = {"company": "comp-acme", "runbook_id": "r", "started_at": moment, "success": False}
    bodies = [
        into_b,
        {**observation, "company": "comp-acme", "incident": globex.incident.pk},
        {**observation, "incident": globex.incident.pk},
        {**observation, "company": "comp-acme", "domain": acme.domain.slug, "service": globex.service.slug},
        {**run, "execution_id": "acme-new-run", "incident": globex.incident.pk},
    ]
    return [("application/json", json.dumps(body)) for body in bodies]


def test_writes_into_company_b_or_naming_its_objects_are_refused_and_change_nothing(world):
    before = tenant_rows(world.globex.company)
    client = client_for(world.feed)
    for name, pattern in api_routes():
        for method in sorted(methods(pattern) - {"get", "head", "options"}):
            url = f"{url_of(world, name, pattern)}?company=comp-globex&service={LEAK}-gateway"
            for content_type, body in write_bodies(world, name):
                response = client.generic(method.upper(), url, body, content_type=content_type)
                assert 400 <= response.status_code < 500, f"{method.upper()} {url} {body}: {response.status_code} {response.content[:300]}"
                assert not leaked(response), f"{method.upper()} {url} {body}: {response.content[:300]}"
    assert tenant_rows(world.globex.company) == before
    assert not world.acme.company.runbook_executions.filter(execution_id="acme-new-run").exists()
