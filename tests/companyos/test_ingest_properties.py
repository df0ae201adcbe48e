"""
Hypothesis over every write endpoint of the OpenAPI schema (a new one is covered as it appears): real payloads with
one value replaced by something hostile (nesting far past the limit, huge or unicode text with NUL and lone
surrogates, impossible or out-of-range dates, times without offset, numbers where text belongs, booleans where
numbers do, unknown fields), and arbitrary JSON or text. No answer may be a 5xx, and every refusal is in the API's
error shape. Signed webhooks are signed, so their handlers are reached.
"""
import copy
import json
import re

import pytest
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connectors.signatures import sign_github, sign_pagerduty
from kpis.services import submit_proposal
from tests.companyos.factories import UserFactory
from tests.connectors.factories import IntegrationFactory
from tests.helpers import FIXTURES_DIR, client_for, free_port
from tests.incidents.factories import IncidentFactory
from tests.notifications.factories import ChannelFactory, SubscriptionFactory
from tests.kpis.factories import KpiDefinitionFactory
from tests.tenancy.factories import CompanyFactory, DomainFactory, ServiceFactory

WRITE_METHODS = ("post", "put", "patch")
WRITE_OPERATIONS = sorted(
    (method, path)
    for path, operations in SchemaGenerator().get_schema(request=None, public=True)["paths"].items()
    for method in operations
    if method in WRITE_METHODS
)
GITHUB_HEADERS = json.loads((FIXTURES_DIR / "github" / "headers.json").read_text())
TIME = "2024-01-15T10:00:00Z"


def fixture_json(name):
    return json.loads((FIXTURES_DIR / name).read_text())


# A valid body of each endpoint (by the schema's path), the starting point of the mutations.
VALID_BODIES = {
    "/api/alerts/": [{"company": "comp-acme", "asset": "web-1", "signature": "disk_full", "severity": "high",
                      "issued_at": TIME, "source": "cloudwatch", "external_id": "cw-1", "payload": {"k": "v"}}],
    "/api/observations/": [{"kpi": "slo-attainment", "company": "comp-acme", "observed_at": TIME, "value": 99.5}],
    "/api/incidents/": {"company": "comp-acme", "external_id": "PD-9", "title": "Down", "severity": "P1", "detected_at": TIME,
                        "acknowledged_at": TIME, "resolved_at": TIME, "automation_used": False},
    "/api/incidents/{id}/phases/": {"phase": "gather", "entered_at": TIME},
    "/api/incidents/{id}/milestones/": {"name": "initial-update", "committed_eta": TIME, "delivered_at": TIME},
    "/api/incidents/{id}/survey-responses/": {"respondent": "r@example.com", "score": 4, "submitted_at": TIME},
    "/api/runbook-executions/": {"company": "comp-acme", "runbook_id": "SSM-1", "execution_id": "exec-9",
                                 "started_at": TIME, "finished_at": TIME, "success": True},
    "/api/kpis/{slug}/": {"description": "Better words", "target": 99.95, "change_reason": "Clearer"},
    "/api/kpis/{slug}/proposals/": {"target": 99.95, "change_reason": "Stricter"},
    "/api/proposals/{id}/approve/": {"comment": "Fine", "emergency_reason": ""},
    "/api/proposals/{id}/reject/": {"comment": "No"},
    "/api/webhooks/alertmanager/": fixture_json("alertmanager_v4_firing.json"),
    "/api/webhooks/pagerduty/{integration_id}/": fixture_json("pagerduty/incident_triggered.json"),
    "/api/scans/trivy/": fixture_json("scanners/trivy-image.json"),
    "/api/scans/snyk/": fixture_json("scanners/snyk-test-npm.json"),
    "/api/scans/gitleaks/": fixture_json("scanners/gitleaks-detect.json"),
}
CSV_FILES = {
    "/api/imports/active-users/": "imports/active_users.csv",
    "/api/imports/billing/": "imports/billing_mrr.csv",
    "/api/imports/cloud-cost/": "imports/aws_cur_2024-01.csv",
    "/api/imports/feature-flags/": "imports/feature_flag_evaluations.csv",
}
QUERIES = {"/api/scans/": "?company=comp-acme&service=web", "/api/imports/": "?company=comp-acme"}

impossible_times = st.builds(
    "{:04d}-{:02d}-{:02d}T{:02d}:{:02d}:00{}".format,
    st.sampled_from([1, 999, 1999, 2024, 2101, 9999]), st.integers(0, 13), st.integers(0, 32), st.integers(0, 25),
    st.integers(0, 61), st.sampled_from(["Z", "+01:00", "-23:59", "+15:59", "", ".5Z"]),
)
hostile_text = st.one_of(
    st.text(max_size=50),  # any unicode, NUL and lone surrogates included
    st.integers(1, 200_000).map(lambda size: "x" * size),
    st.sampled_from(["=HYPERLINK(\"http://x\")", "\x00", "\ud800", "2026-02-30", "0001-01-01T00:00:00+01:00",
                     "9999-12-31T23:59:59Z", "2024-01-15T10:00:00", "2024-02-30T10:00:00Z", "true", "NaN", ""]),
    impossible_times,
)
hostile_scalars = st.one_of(
    hostile_text, st.booleans(), st.none(), st.integers(-(2**80), 2**80), st.floats(allow_nan=False, allow_infinity=False),
)
# Nesting past the limit, as a placeholder that `encoded` writes out as brackets (Python's own json could not).
deep_nesting = st.integers(33, 100_000).map(lambda depth: f"<deep {depth}>")
hostile_values = st.one_of(
    hostile_scalars,
    deep_nesting,
    st.recursive(hostile_scalars, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
                 max_leaves=8),
)


def encoded(body):
    """`body` as the UTF-8 bytes of its JSON, lone surrogates kept, deep-nesting placeholders written out."""
    text = json.dumps(body)
    text = re.sub(r'"<deep (\d+)>"', lambda match: "[" * int(match[1]) + "]" * int(match[1]), text)
    return text.encode("utf-8", "surrogatepass")


@st.composite
def mutated(draw, base):
    """`base` with one value somewhere in it replaced by a hostile one, or an unknown field added to an object."""
    body = copy.deepcopy(base)
    parent, key, node = None, None, body
    while isinstance(node, (dict, list)) and node and draw(st.booleans()):
        parent = node
        key = draw(st.sampled_from(sorted(node, key=str)) if isinstance(node, dict) else st.integers(0, len(node) - 1))
        node = node[key]
    if isinstance(node, dict) and draw(st.booleans()):
        node[draw(st.text(min_size=1, max_size=12))] = draw(hostile_values)
        return body
    if parent is None:
        return draw(hostile_values)
    parent[key] = draw(hostile_values)
    return body


def json_bodies(path):
    """Encoded JSON bodies for `path`: a mutated valid body when there is one, arbitrary JSON, or bytes that are not JSON."""
    base = VALID_BODIES.get(path, {})
    as_json = st.one_of(mutated(base), hostile_values).map(encoded)
    return st.one_of(as_json, as_json, st.binary(max_size=200))


@st.composite
def csv_bodies(draw, path):
    """The recorded export of `path` with one cell (or the whole file) replaced by hostile text, as bytes."""
    lines = (FIXTURES_DIR / CSV_FILES[path]).read_text().splitlines()
    if draw(st.booleans()):
        row = draw(st.integers(0, len(lines) - 1))
        cells = lines[row].split(",")
        cells[draw(st.integers(0, len(cells) - 1))] = draw(hostile_text).replace("\n", " ")
        lines[row] = ",".join(cells)
        text = "\n".join(lines)
    else:
        text = draw(hostile_text)
    return text.encode("utf-8", "surrogatepass")


@pytest.fixture
def world(superuser):
    """What the endpoints' URLs name: a company with a service, an incident, a KPI, a proposal and integrations."""
    company = CompanyFactory(slug="comp-acme")
    ServiceFactory(slug="web", domain=DomainFactory(company=company, slug="frontend"))
    KpiDefinitionFactory(slug="slo-attainment", units="percent", status="active")
    proposal = submit_proposal(KpiDefinitionFactory(slug="nps", status="active"), actor=UserFactory(), reason="r", target=1)
    channel = ChannelFactory(owner=superuser, url="https://chat.example.com/hooks/T000")
    return {
        "client": client_for(superuser),
        "{id}": {
            "incidents": IncidentFactory(company=company).pk,
            "proposals": proposal.pk,
            # A Prometheus nobody answers for: its connection test fails at once.
            "prometheus": IntegrationFactory(kind="prometheus", company=company, url=f"http://127.0.0.1:{free_port()}").pk,
            # The caller's own chat channel and its subscription.
            "channels": channel.pk,
            "subscriptions": SubscriptionFactory(channel=channel).pk,
        },
        "{slug}": "slo-attainment",
        "github": IntegrationFactory(kind="github", company=company),
        "pagerduty": IntegrationFactory(kind="pagerduty", company=company),
    }


def url_of(path, world):
    """The URL of a schema path, its parameters filled from `world`; a parameter nobody knows fails here."""
    url = path.replace("{slug}", world["{slug}"])
    if "{id}" in url:
        # Keyed by the collection the id is of: /api/incidents/{id}/, /api/notifications/channels/{id}/.
        parts = url.split("/")
        url = url.replace("{id}", str(world["{id}"][parts[parts.index("{id}") - 1]]))
    if "{integration_id}" in url:
        url = url.replace("{integration_id}", str(world[url.split("/")[3]].pk))
    assert "{" not in url, f"No value for a parameter of {path}: add it to the `world` fixture."
    return url + next((query for prefix, query in QUERIES.items() if path.startswith(prefix)), "")


def send(world, method, path, body, event):
    url = url_of(path, world)
    if path.startswith("/api/webhooks/github/"):
        headers = {f"HTTP_{name.upper().replace('-', '_')}": value for name, value in GITHUB_HEADERS[event].items()}
        headers["HTTP_X_HUB_SIGNATURE_256"] = sign_github(world["github"].secret, body)
        return world["client"].generic("POST", url, body, content_type="application/json", **headers)
    if path.startswith("/api/webhooks/pagerduty/"):
        signature = sign_pagerduty(world["pagerduty"].secret, body)
        return world["client"].generic("POST", url, body, content_type="application/json", HTTP_X_PAGERDUTY_SIGNATURE=signature)
    content_type = "text/csv" if path in CSV_FILES else "application/json"
    return world["client"].generic(method.upper(), url, body, content_type=content_type)


def assert_answered_in_the_error_shape(response):
    assert response.status_code < 500, response.content[:500]
    if response.status_code >= 400:
        error = response.json()["error"]
        assert error["status"] == response.status_code and isinstance(error["message"], str) and error["message"]


def test_every_recorded_body_is_of_a_write_endpoint_of_the_schema():
    # A new write endpoint is fuzzed as it appears (with arbitrary JSON); its real payload, added above, makes the
    # mutations reach deeper. A recorded body of an endpoint that is gone is stale.
    assert set(VALID_BODIES) | set(CSV_FILES) <= {path for _, path in WRITE_OPERATIONS}


@pytest.mark.slow
@pytest.mark.parametrize("method, path", WRITE_OPERATIONS, ids=[f"{m} {p}" for m, p in WRITE_OPERATIONS])
@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_no_hostile_payload_gets_a_5xx(world, method, path, data):
    if path in CSV_FILES:
        body = data.draw(csv_bodies(path), label="csv")
    elif path.startswith("/api/webhooks/github/"):
        event = data.draw(st.sampled_from(sorted(name for name in GITHUB_HEADERS if re.match(r"\w+\.json$", name))))
        body = data.draw(st.one_of(
            mutated(fixture_json(f"github/{event}")).map(encoded),
            json_bodies(path),
        ), label="github")
        return assert_answered_in_the_error_shape(send(world, method, path, body, event))
    else:
        body = data.draw(json_bodies(path), label="json")
    assert_answered_in_the_error_shape(send(world, method, path, body, None))
