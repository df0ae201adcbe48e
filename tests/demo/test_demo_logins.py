"""
`make run` gives a demo user per role a known development password and prints the logins once, so each persona can
be tried at once; with DEBUG off (production settings) nobody gets a password.
"""
import re
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client, override_settings

from demo.users import DEMO_PASSWORD
from kpis.models import KpiDefinition

# The demo loaded end to end; it grants its users their own companies.
pytestmark = [pytest.mark.django_db, pytest.mark.slow, pytest.mark.separate_tenants]
LOGIN_LINE = re.compile(r"^  (\S+)\s+(.+?)(?:  \(API token (\w+)\))?$")
READERS = ["acme-exec", "globex-exec", "acme-stakeholder", "msp-responder", "msp-approver", "msp-auditor", "ciso-owner"]


def load_demo():
    out = StringIO()
    call_command("load_demo", companies=2, days=2, incidents=20, alerts=200, stdout=out)
    return out.getvalue()


def printed_logins(output):
    """{username: (roles, token)} of the logins block `load_demo` printed, and the password it named."""
    head, _, block = output.partition("Demo logins for development, shown once")
    password = re.search(r"password (\S+)\):", block).group(1)
    logins = {}
    for line in block.splitlines()[1:]:
        match = LOGIN_LINE.match(line)
        if match:
            logins[match[1]] = (match[2], match[3])
    return logins, password


@override_settings(DEBUG=True)
def test_each_demo_persona_logs_in_with_the_printed_password():
    logins, password = printed_logins(load_demo())
    assert password == DEMO_PASSWORD
    assert {"acme-exec", "globex-exec", "acme-stakeholder", "acme-data-source", "msp-responder", "msp-approver", "msp-auditor", "ciso-owner"} <= logins.keys()
    assert logins["msp-auditor"][0] == "All companies, Auditors"
    assert logins["ciso-owner"][0] == "CISO, KPI owners"
    for username in READERS:
        browser = Client()
        response = browser.post("/accounts/login/", {"username": username, "password": password}, follow=True)
        assert response.redirect_chain[-1][0].startswith("/cockpit/"), username
        assert response.status_code == 200, username
        assert browser.get("/api/kpis/").status_code == 200, username
    # The people whose work is in the admin reach it without anyone ticking a box.
    for username in ("msp-approver", "msp-auditor", "ciso-owner"):
        browser = Client()
        opened = browser.post("/admin/login/?next=/admin/", {"username": username, "password": password}, follow=True)
        assert b"Site administration" in opened.content, username
    # Every catalogue definition has a demo owner to try its owner's view with.
    assert not KpiDefinition.objects.filter(owner__isnull=True).exclude(owner_role="").exists()
    # The data source's token reads back its own company's incidents.
    roles, token = logins["acme-data-source"]
    assert roles == "Data sources" and token
    incidents = Client(HTTP_AUTHORIZATION=f"Token {token}").get("/api/incidents/")
    assert incidents.status_code == 200
    assert {incident["company"] for incident in incidents.json()["results"]} == {"comp-acme"}
    # Shown once: a second `make run` keeps the passwords and prints none.
    again = load_demo()
    assert "Demo logins for development" not in again
    assert DEMO_PASSWORD not in again


def test_with_debug_off_no_demo_user_gets_a_password():
    output = load_demo()
    assert "Demo users have no password (DEBUG is off)" in output
    assert DEMO_PASSWORD not in output
    demo_users = get_user_model().objects.filter(username__in=[*READERS, "acme-data-source"])
    assert demo_users.count() == len(READERS) + 1
    assert not any(user.has_usable_password() for user in demo_users)

