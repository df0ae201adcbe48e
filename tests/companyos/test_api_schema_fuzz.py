"""
Schemathesis over the live OpenAPI schema, on the demo's data, as each role: every operation the schema has (a new
endpoint is fuzzed without being listed here), schema-valid and schema-invalid requests, every check schemathesis
has. The API must answer each within its schema (status, content type, headers, body), refuse what the schema
refuses, never answer 5xx, and ask for credentials when none are sent.
"""
import os
import re
from io import StringIO

import pytest
import schemathesis
from django.contrib.auth.models import Group
from django.core.handlers.wsgi import WSGIHandler
from django.core.management import call_command
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, transaction
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, settings
from rest_framework.authtoken.models import Token
from schemathesis.config import SchemathesisConfig

from demo.companies import company_identities
from tenancy import roles
from tenancy.models import Company, Membership
from tests.companyos.factories import UserFactory

pytestmark = pytest.mark.slow  # thousands of generated requests

ROLES = {
    "owner": roles.KPI_OWNERS,
    "approver": roles.KPI_APPROVERS,
    "auditor": roles.AUDITORS,
    "executive": roles.EXECUTIVES,
    "stakeholder": roles.STAKEHOLDERS,
    "responder": roles.RESPONDERS,
    "data source": roles.DATA_SOURCES,
}
# A user holding every role reads and writes everything the API offers: it gets the full count of generated
# requests per operation. Each role on its own gets a tenth of them (mostly the same requests ending at a permission
# check or in a narrower view: 7 roles times every operation is the suite's largest block), so the whole run stays
# within minutes. API_FUZZ_EXAMPLES raises both for a longer hunt.
FULL_ACCESS = "every role"
EXAMPLES = int(os.environ.get("API_FUZZ_EXAMPLES", "50"))
ROLE_EXAMPLES = max(EXAMPLES // 10, 1)
DEMO_COMPANIES = 2

SETTINGS = {
    # Every check schemathesis has, with its default expectations, except as below.
    # Most generated requests name a real company, so they reach past the look-up of the company into the code.
    "dictionaries": {"companies": {"values": [slug for slug, _ in company_identities(DEMO_COMPANIES)]}},
    "parameters": {
        name: {"dictionary": "companies", "probability": 0.7}
        for name in ("query.company", "query.company_id", "body.company", "body.[*].company")
    },
    "checks": {
        "enabled": True,
        # A schema-valid request may still be refused with a 400, for rules OpenAPI 3.0 cannot state: a write's
        # company, domain, service, KPI or incident must exist within the caller's companies and a KPI must take
        # observations; dates and times lie within the supported years and are real calendar days; since comes
        # before until and a period is at most a year; a scope names one of the company's domains. Such a 400
        # must name what it refuses (refusal_names_what_it_refuses below), which holds every other 400 too.
        "positive_data_acceptance": {"expected-statuses": ["2xx", "400", "401", "403", "404", "409", "429"]},
    },
}
RAW_SCHEMA = SchemaGenerator().get_schema(request=None, public=True)
schema = schemathesis.openapi.from_dict(RAW_SCHEMA, config=SchemathesisConfig.from_dict(SETTINGS))
schema.app = WSGIHandler()
# Each role on its own: the coverage phase's boundary requests are the same for every caller, so they are sent once,
# by the user of every role.
role_schema = schemathesis.openapi.from_dict(
    RAW_SCHEMA, config=SchemathesisConfig.from_dict({**SETTINGS, "phases": {"coverage": {"enabled": False}}})
)
role_schema.app = WSGIHandler()


def _declared_names(operation):
    """
    The names a request to `operation` may carry: its parameters and the properties of its bodies; None when a body
    is a document (an uploaded CSV file or scanner report), whose errors name places in it (`line 3`, `Results[0]`).
    """
    names = {parameter["name"] for parameter in operation.get("parameters", [])}
    for media in operation.get("requestBody", {}).get("content", {}).values():
        body = media.get("schema", {})
        body = body.get("items", body)
        if "$ref" in body:
            body = RAW_SCHEMA["components"]["schemas"][body["$ref"].rsplit("/", 1)[1]]
        if body.get("format") == "binary" or "type" not in body:
            return None
        names |= set(body.get("properties", {}))
    return names


DECLARED = {
    f"{method.upper()} {path}": _declared_names(operation)
    for path, operations in RAW_SCHEMA["paths"].items()
    for method, operation in operations.items()
}
# Error fields that name no parameter: the request as a whole, the body as a whole.
WHOLE_REQUEST = {"non_field_errors", "body"}
ROW = re.compile(r"^\[[0-9]+\]\.?")


def _sent_names(case):
    """The query parameters and body fields the request carried: an unknown one is refused by its name."""
    rows = case.body if isinstance(case.body, list) else [case.body]
    return set(case.query or {}) | {name for row in rows if isinstance(row, dict) for name in row}


@schemathesis.check
def refusal_names_what_it_refuses(ctx, response, case):
    """A 400 says, in the one error shape, which of the request's parameters or fields it refuses (or the whole)."""
    if response.status_code != 400:
        return None
    error = response.json()["error"]
    assert error["fields"], f"The 400 names no field: {error['message']}"
    if DECLARED[case.operation.label] is None:
        return None
    names = DECLARED[case.operation.label] | WHOLE_REQUEST | _sent_names(case)
    unknown = [path for path in error["fields"] if not _names_one_of(ROW.sub("", path), names)]
    assert not unknown, f"The 400 names {unknown}, neither declared nor sent: {error['message']}"
    return None


def _names_one_of(path, names):
    """Whether the error path `path` (`alerts[0].labels`) is about one of `names` (`alerts`)."""
    return any(path == name or path.startswith((f"{name}.", f"{name}[")) for name in names)


@pytest.fixture(scope="module")
def demo_tokens(django_db_setup, django_db_blocker):
    """The small demo, and a token of a user of each role who is a member of every demo company: loaded once, rolled back."""
    with django_db_blocker.unblock(), transaction.atomic():
        call_command("load_demo", companies=DEMO_COMPANIES, days=3, incidents=60, alerts=600, stdout=StringIO())
        tokens = {}
        for role, groups in [*((role, [group]) for role, group in ROLES.items()), (FULL_ACCESS, ROLES.values())]:
            user = UserFactory(username=f"fuzz-{role.replace(' ', '-')}")
            user.groups.add(*(Group.objects.get_or_create(name=group)[0] for group in groups))
            Membership.objects.bulk_create([Membership(user=user, company=company) for company in Company.objects.all()])
            tokens[role] = Token.objects.create(user=user).key
        yield tokens
        transaction.set_rollback(True)


@pytest.fixture
def keep_test_connection():
    """Requests reach the real WSGI handler, which would close the test's connection (inside its transaction)."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def token(request, demo_tokens, db, keep_test_connection):
    """The token of the role the test is parametrized with."""
    return demo_tokens[request.param]


@schema.parametrize()
@pytest.mark.parametrize("token", [FULL_ACCESS], indirect=True)
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
def test_every_operation_answers_a_user_of_every_role_within_its_schema(case, token):
    case.call_and_validate(headers={"Authorization": f"Token {token}"})


@role_schema.parametrize()
@pytest.mark.parametrize("token", list(ROLES), indirect=True)
@settings(max_examples=ROLE_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
def test_every_operation_answers_each_role_within_its_schema(case, token):
    case.call_and_validate(headers={"Authorization": f"Token {token}"})
