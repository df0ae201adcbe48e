"""
The methodology panel shows the proof's parts: the runbook table with its time saved, the median resolution times,
and the non-compliant instances with the age of each patch group's results; in the page and in a real Chromium.
"""
import datetime
import json

import pytest
from playwright.sync_api import expect

from kpis import roles
from security.patch_states import apply_patch_states
from tests.cockpit.helpers import NEEDS_CHROMIUM, logged_in_page
from tests.helpers import member_of
from tests.kpis.factories import KpiDefinitionFactory
from tests.kpis.helpers import build_runbook_example
from tests.security.helpers import example_answer

DAY_START = datetime.datetime(2024, 1, 15, tzinfo=datetime.timezone.utc)


@pytest.fixture
def proof(acme):
    """comp-acme's methodology KPIs, the runbook example on its scored day and the example's patch states."""
    for slug in ("mttr-reduction", "self-healed", "patch-compliance"):
        KpiDefinitionFactory(slug=slug, units="percent", direction="higher", target=None, critical_threshold=None,
                             dimension="none", weight=0)
    build_runbook_example(acme["company"], DAY_START)
    apply_patch_states(acme["company"], json.dumps(example_answer()).encode())
    return acme


def test_the_panel_lists_runbooks_medians_and_non_compliant_instances(client, proof):
    client.force_login(member_of(roles.EXECUTIVES))

    html = client.get("/cockpit/", {"company": "comp-acme"}).content.decode()

    assert "medians 45.0 → 8.0 min" in html
    assert '<tr data-runbook="SSM-DiskCleanup-001">' in html
    assert "<td class=\"num\">1665.0</td>" in html and "3065.0 min" in html
    assert '<tr data-instance="server-prod-03">' in html
    assert "Production 2 hours" in html


@pytest.mark.slow
@NEEDS_CHROMIUM
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_an_executive_reads_the_methodology_proof_in_the_browser(live_server, proof):
    member_of(roles.EXECUTIVES, username="erin", is_staff=False)
    with logged_in_page(live_server.url, "erin") as page:
        page.goto(live_server.url + "/cockpit/?company=comp-acme")

        panel = page.get_by_test_id("methodology")
        expect(panel.get_by_test_id("mttr-medians")).to_have_text("medians 45.0 → 8.0 min")
        runbooks = panel.get_by_test_id("runbook-table")
        expect(runbooks.locator("tbody tr")).to_have_count(3)
        disk = runbooks.locator('tr[data-runbook="SSM-DiskCleanup-001"]')
        expect(disk).to_contain_text("disk_full")
        expect(disk.locator("td")).to_have_text(["SSM-DiskCleanup-001disk_full", "45", "96 %", "120.0 s", "45.0 → 8.0", "1665.0"])
        expect(runbooks.get_by_test_id("time-saved-total")).to_have_text("3065.0 min")
        expect(panel).to_contain_text("42/48 instances · 8 critical patches missing")
        instances = panel.get_by_test_id("patch-instances")
        expect(instances.locator("tbody tr")).to_have_count(6)
        expect(instances.locator("tbody tr").first).to_contain_text("server-prod-03")
        expect(panel.get_by_test_id("patch-group-ages")).to_contain_text("Development 6 hours · Production 2 hours · Staging 4 hours")
