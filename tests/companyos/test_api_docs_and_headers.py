"""
The OpenAPI schema and its Swagger UI are for signed-in users and load nothing from a CDN; every page and answer
carries the Content-Security-Policy of the settings.
"""
import re

import pytest
from django.conf import settings

from tests.helpers import client_for


def test_an_anonymous_caller_gets_no_schema_and_is_sent_to_log_in_for_the_docs(client, db):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json")
    assert schema.status_code == 401
    assert schema.json()["error"]["code"] == "not_authenticated"

    docs = client.get("/api/docs/")
    assert docs.status_code == 302 and docs.url == "/accounts/login/?next=/api/docs/"


def test_a_token_reads_the_schema(superuser):
    response = client_for(superuser).get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")

    assert response.status_code == 200
    assert "/api/observations/" in response.json()["paths"]


def test_the_docs_load_swagger_ui_from_the_installed_sidecar_and_no_inline_script(client, superuser):
    client.force_login(superuser)

    page = client.get("/api/docs/").content.decode()

    sources = re.findall(r'<(?:script|link)[^>]*(?:src|href)="([^"]+)"', page)
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in sources
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui.css" in sources
    assert all(source.startswith("/") for source in sources), sources
    assert re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", page) == []  # every script is a file
    assert "<style" not in page
    script = client.get("/api/docs/?script=")
    assert script.status_code == 200 and "SwaggerUIBundle" in script.content.decode()


@pytest.mark.parametrize("path", ["/accounts/login/", "/admin/login/", "/api/kpis/", "/metrics"])
def test_every_answer_carries_the_content_security_policy(client, db, path):
    policy = client.get(path)["Content-Security-Policy"]

    directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))
    assert directives["script-src"] == "'self'"
    assert directives["default-src"] == "'self'" and directives["object-src"] == "'none'"
    assert directives == {name: " ".join(sources) for name, sources in settings.CONTENT_SECURITY_POLICY.items()}
