"""
The Content-Security-Policy in a real headless Chromium: the cockpit, the admin and the API's Swagger UI (served from
drf-spectacular-sidecar, no CDN) render under it with no violation reported, and a script injected into a page is
blocked.
"""
import datetime

import pytest
from playwright.sync_api import expect, sync_playwright

from cockpit.browser import CHROMIUM, chromium_available, launch_chromium
from scoring.services import compute_snapshots
from tests.companyos.factories import UserFactory
from tests.kpis.factories import KpiDefinitionFactory, ObservationFactory
from tests.tenancy.factories import ServiceFactory

PASSWORD = "correct-horse-battery"  # the factories' password

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not chromium_available(), reason=f"No Chromium at {CHROMIUM}; .ci/setup installs Debian's chromium package."),
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

# Records every violation the page reports, before any of the page's own scripts run.
RECORD_VIOLATIONS = """
window.cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.cspViolations.push(`${event.violatedDirective} ${event.blockedURI}`);
});
"""


@pytest.fixture
def scored_admin(db):
    """A superuser (who reaches the cockpit, the admin and the API docs) and a company scored on one day."""
    service = ServiceFactory(slug="gateway", domain__slug="api", domain__company__slug="comp-acme")
    kpi = KpiDefinitionFactory(slug="slo-attainment", units="percent", direction="higher", target=99.9,
                               critical_threshold=99.5, dimension="reliability", weight=30)
    ObservationFactory(kpi=kpi, company=service.domain.company, value=99.7,
                       observed_at=datetime.datetime(2024, 1, 15, 6, tzinfo=datetime.timezone.utc))
    compute_snapshots(datetime.date(2024, 1, 15))
    return UserFactory(username="root", is_staff=True, is_superuser=True)


@pytest.fixture
def page(live_server, scored_admin):
    """A Chromium page logged in through the login form (data created first: see tests/cockpit/test_browser.py)."""
    with sync_playwright() as playwright:
        chromium = launch_chromium(playwright)
        context = chromium.new_context(viewport={"width": 1280, "height": 900})
        context.add_init_script(RECORD_VIOLATIONS)
        page = context.new_page()
        page.goto(live_server.url + "/accounts/login/")
        page.get_by_label("Username").fill("root")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Log in").click()
        expect(page).to_have_url(live_server.url + "/cockpit/")
        yield page
        context.close()
        chromium.close()


def violations(page):
    return page.evaluate("window.cspViolations")


def test_the_cockpit_renders_its_svg_charts_and_styles_with_no_violation(live_server, page):
    page.goto(live_server.url + "/cockpit/?company=comp-acme&day=2024-01-15")

    expect(page.locator("svg").first).to_be_visible()
    assert page.evaluate("getComputedStyle(document.querySelector('.topbar')).display") != "inline"  # its stylesheet applies
    assert violations(page) == []


def test_the_admin_renders_with_its_scripts_and_no_violation(live_server, page):
    page.goto(live_server.url + "/admin/kpis/kpidefinition/")

    expect(page.locator("#result_list")).to_be_visible()
    assert violations(page) == []


def test_swagger_ui_loads_from_the_sidecar_and_lists_the_operations_with_no_violation(live_server, page):
    requested = []
    page.on("request", lambda request: requested.append(request.url))

    page.goto(live_server.url + "/api/docs/")

    expect(page.get_by_text("/api/observations/").first).to_be_visible(timeout=20_000)
    assert violations(page) == []
    assert all(url.startswith(live_server.url) or url.startswith("data:") for url in requested), requested


def test_a_script_injected_into_a_page_does_not_run(live_server, page):
    page.goto(live_server.url + "/cockpit/?company=comp-acme")

    page.evaluate("""() => {
      const script = document.createElement("script");
      script.textContent = "window.injected = true";
      document.body.appendChild(script);
    }""")

    assert page.evaluate("window.injected === undefined")
    assert any(violation.startswith("script-src") for violation in violations(page))
