"""Adding a Prometheus integration and testing its connection, by the API and by `manage.py kpi prometheus`."""
import json
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.contrib.auth.models import Permission
from django.core.management import CommandError, call_command

from connectors.models import Integration
from kpis import roles
from tests.companyos.factories import UserFactory
from tests.helpers import client_for, free_port, member_of
from tests.tenancy.factories import CompanyFactory

pytestmark = pytest.mark.django_db

URL = "/api/integrations/prometheus/"
TOKEN = "prometheus-proxy-token"


class TokenCheckingPrometheus(BaseHTTPRequestHandler):
    """Prometheus' query API behind a proxy wanting TOKEN: evaluates nothing but vector(1)."""

    def do_POST(self):
        form = urllib.parse.parse_qs(self.rfile.read(int(self.headers["Content-Length"])).decode())
        if self.headers.get("Authorization") != f"Bearer {TOKEN}":
            self.send_response(401)
            self.end_headers()
            self.wfile.write(b"Unauthorized\n")
            return
        assert form["query"] == ["vector(1)"]
        body = {"status": "success", "data": {"resultType": "vector", "result": [{"metric": {}, "value": [1.0, "1"]}]}}
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(json.dumps(body).encode())

    def log_message(self, *args):
        pass


@pytest.fixture
def prometheus_url():
    server = ThreadingHTTPServer(("127.0.0.1", 0), TokenCheckingPrometheus)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def administrator(*companies):
    """A user who reads (an auditor) and may add and change integrations, a member of `companies`."""
    user = member_of(roles.AUDITORS, is_staff=True)
    user.user_permissions.add(*Permission.objects.filter(codename__in=["add_integration", "change_integration", "view_integration"]))
    for company in companies:
        company.memberships.create(user=user)
    return user


@pytest.fixture
def acme():
    return CompanyFactory(slug="comp-acme")


@pytest.fixture
def globex():
    return CompanyFactory(slug="comp-globex")


def body(**fields):
    return {"company": "comp-acme", "name": "Acme Prometheus", "url": "http://127.0.0.1:9", "token": TOKEN,
            "change_reason": "KPIs from our Prometheus", **fields}


@pytest.mark.separate_tenants
class TestTheApi:
    def test_an_administrator_adds_one_whose_token_is_never_shown_and_tests_it(self, acme, prometheus_url):
        client = client_for(administrator(acme))

        created = client.post(URL, body(url=prometheus_url), format="json")

        assert created.status_code == 201, created.json()
        assert created.json()["has_token"] is True and TOKEN not in created.content.decode()
        integration = Integration.objects.get()
        assert (integration.kind, integration.company, integration.secret) == ("prometheus", acme, TOKEN)
        assert integration.history.get().history_change_reason == "KPIs from our Prometheus"
        tested = client.post(f"{URL}{integration.pk}/test/")
        assert tested.json() == {"ok": True, "detail": f"Prometheus at {prometheus_url} answered vector(1) with 1."}

    def test_a_failed_test_says_why(self, acme, prometheus_url):
        client = client_for(administrator(acme))
        wrong_token = client.post(URL, body(url=prometheus_url, token="not-it"), format="json").json()["id"]
        nobody_there = client.post(URL, body(name="Gone", url=f"http://127.0.0.1:{free_port()}"), format="json").json()["id"]

        refused = client.post(f"{URL}{wrong_token}/test/").json()
        unreachable = client.post(f"{URL}{nobody_there}/test/").json()

        assert refused == {"ok": False, "detail": f"Prometheus at {prometheus_url} answered HTTP 401 without an API response."}
        assert unreachable["ok"] is False and "could not be queried" in unreachable["detail"]

    def test_auditors_read_them_and_change_nothing(self, acme):
        integration = Integration.objects.create(kind="prometheus", name="Acme", url="http://prometheus:9090", company=acme)
        auditor = member_of(roles.AUDITORS)
        acme.memberships.create(user=auditor)
        client = client_for(auditor)

        listed = client.get(URL)

        assert listed.status_code == 200
        assert [row["name"] for row in listed.json()["results"]] == ["Acme"]
        assert client.post(URL, body(name="Another"), format="json").status_code == 403
        assert client.post(f"{URL}{integration.pk}/test/").status_code == 403
        assert Integration.objects.count() == 1

    def test_one_company_cannot_add_or_test_one_for_another(self, acme, globex):
        theirs = Integration.objects.create(kind="prometheus", name="Globex", url="http://prometheus:9090", company=globex)
        client = client_for(administrator(acme))

        refused = client.post(URL, body(company="comp-globex", name="Sneaky"), format="json")

        assert refused.status_code == 400
        assert refused.json()["error"]["message"] == "company: No company has the slug 'comp-globex'."
        assert client.post(f"{URL}{theirs.pk}/test/").status_code == 404
        assert client.get(f"{URL}{theirs.pk}/").status_code == 404
        assert client.get(URL).json()["results"] == []
        assert not Integration.objects.filter(name="Sneaky").exists()

    def test_a_name_taken_or_a_bad_url_is_a_400_naming_the_field(self, acme):
        client = client_for(administrator(acme))
        client.post(URL, body(), format="json")

        again = client.post(URL, body(), format="json")
        bad_url = client.post(URL, body(name="Other", url="prometheus"), format="json")

        assert again.json()["error"]["message"] == "name: A Prometheus integration is named 'Acme Prometheus' already."
        assert bad_url.status_code == 400 and bad_url.json()["error"]["message"].startswith("url:")


class TestTheCommand:
    def test_add_with_a_token_from_the_environment_and_test(self, acme, prometheus_url, monkeypatch, capsys):
        monkeypatch.setenv("ACME_PROMETHEUS_TOKEN", TOKEN)
        UserFactory(username="ops")

        call_command("kpi", "prometheus", "add", "--name", "Acme Prometheus", "--url", prometheus_url, "--company", "comp-acme",
                     "--token-env", "ACME_PROMETHEUS_TOKEN", "--reason", "KPIs from our Prometheus", "--actor", "ops", "--test")

        out = capsys.readouterr().out
        assert "Added the Prometheus integration 'Acme Prometheus'" in out
        assert f"Prometheus at {prometheus_url} answered vector(1) with 1." in out
        integration = Integration.objects.get()
        assert (integration.secret, integration.company, integration.history.get().history_user.username) == (TOKEN, acme, "ops")

    def test_a_connection_that_fails_is_an_error_saying_why(self, prometheus_url):
        call_command("kpi", "prometheus", "add", "--name", "Shared", "--url", prometheus_url, "--reason", "All companies")

        with pytest.raises(CommandError, match="answered HTTP 401 without an API response"):
            call_command("kpi", "prometheus", "test", "Shared")
        with pytest.raises(CommandError, match="No Prometheus integration is named 'Nope'"):
            call_command("kpi", "prometheus", "test", "Nope")

    def test_an_unknown_company_or_unset_token_variable_is_refused(self, monkeypatch):
        monkeypatch.delenv("UNSET_TOKEN", raising=False)
        with pytest.raises(CommandError, match="company: No company has the slug 'comp-nowhere'"):
            call_command("kpi", "prometheus", "add", "--name", "X", "--url", "http://p:9090", "--company", "comp-nowhere", "--reason", "r")
        with pytest.raises(CommandError, match="UNSET_TOKEN is not set"):
            call_command("kpi", "prometheus", "add", "--name", "X", "--url", "http://p:9090", "--token-env", "UNSET_TOKEN", "--reason", "r")
        assert not Integration.objects.exists()
