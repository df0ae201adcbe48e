"""
Schemathesis over the generated OpenAPI schema: a bounded number of generated requests per operation,
none of which may get a 5xx or a response that contradicts the schema.
"""
import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, settings
from rest_framework.authtoken.models import Token
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.companyos.factories import UserFactory
from tests.incidents.factories import IncidentFactory
from tests.kpis.factories import KpiDefinitionFactory
from tests.tenancy.factories import CompanyFactory, DomainFactory, ServiceFactory

pytestmark = pytest.mark.slow  # generated requests against every operation

schema = schemathesis.openapi.from_dict(SchemaGenerator().get_schema(request=None, public=True))
schema.app = WSGIHandler()


@pytest.fixture
def keep_test_connection():
    """Requests reach the real WSGI handler, which would close the test's connection (inside its transaction)."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def superuser_token(db, keep_test_connection):
    company = CompanyFactory(slug="comp-acme")
    IncidentFactory(service=ServiceFactory(slug="gateway", domain=DomainFactory(company=company, slug="api-gateway")))
    KpiDefinitionFactory(slug="mttr")
    return Token.objects.create(user=UserFactory(username="fuzz-admin", is_superuser=True)).key


@schema.parametrize()
@settings(max_examples=8, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_generated_request_gets_a_5xx_or_breaks_the_schema(case, superuser_token):
    # Not "every schema-valid request is accepted": a well-formed slug of a company that does not exist is
    # rightly a 400, which the schema cannot express.
    case.call_and_validate(
        headers={"Authorization": f"Token {superuser_token}"},
        checks=[
            not_a_server_error,
            status_code_conformance,
            content_type_conformance,
            response_headers_conformance,
            response_schema_conformance,
        ],
    )
