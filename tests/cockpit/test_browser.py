"""
The cockpit in a real headless Chromium (Debian's, driven by Playwright) against a live server.

The data is created before the browser starts and the browser closes before the database is flushed: Playwright's
sync API keeps an event loop in this thread while it runs, and Django refuses ORM calls while one is running.
"""
import pytest
from playwright.sync_api import expect, sync_playwright

from kpis import roles
from cockpit.browser import launch_chromium
from tests.cockpit.helpers import NEEDS_CHROMIUM, PASSWORD
from tests.helpers import member_of

pytestmark = [
    pytest.mark.slow,
    NEEDS_CHROMIUM,
    # The live server needs committed data; serialized_rollback restores what migrations seed (weights, groups)
    # after each test's flush.
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


@pytest.fixture
def people(db):
    """An executive and a stakeholder who log in with a password."""
    return {
        "executive": member_of(roles.EXECUTIVES, username="erin", is_staff=False),
        "stakeholder": member_of(roles.STAKEHOLDERS, username="sam", is_staff=False),
    }


@pytest.fixture
def browser(live_server, acme, people):
    """A fresh Chromium page per test, started after the data exists."""
    with sync_playwright() as playwright:
        chromium = launch_chromium(playwright)
        context = chromium.new_context(viewport={"width": 1280, "height": 900})
        yield context.new_page()
        context.close()
        chromium.close()


def log_in(page, base_url, username):
    page.goto(base_url + "/cockpit/?company=comp-acme")
    expect(page).to_have_url(base_url + "/accounts/login/?next=/cockpit/%3Fcompany%3Dcomp-acme")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(base_url + "/cockpit/?company=comp-acme")


def test_an_executive_logs_in_and_sees_the_composite_score_and_five_dimensions(live_server, browser):
    log_in(browser, live_server.url, "erin")
    composite = browser.get_by_test_id("composite")
    expect(composite).to_contain_text("44.4")
    expect(composite).to_contain_text("Warning")
    expect(composite).to_contain_text("Active remediation")
    dimensions = browser.locator("#dimensions li")
    expect(dimensions).to_have_count(5)
    expect(dimensions.first).to_contain_text("Reliability")


def test_an_executive_follows_a_kpi_down_to_the_incident_it_was_computed_from(live_server, browser):
    log_in(browser, live_server.url, "erin")
    browser.locator('tr[data-kpi="mttr"]').get_by_role("link", name="Mean Time to Resolve").click()
    expect(browser.get_by_role("heading", level=1)).to_have_text("Mean Time to Resolve")
    expect(browser.get_by_test_id("kpi-value")).to_have_text("45 min")
    browser.get_by_role("link", name="PD-000042").click()
    expect(browser.get_by_role("heading", level=1)).to_have_text("PD-000042: Disk full on web-1")
    expect(browser.get_by_role("heading", name="Alerts (4)")).to_be_visible()


def test_a_stakeholder_does_not_see_an_internal_kpi(live_server, browser):
    log_in(browser, live_server.url, "sam")
    expect(browser.locator('tr[data-kpi="mttr"]')).to_be_visible()
    expect(browser.locator('tr[data-kpi="pager-load"]')).to_have_count(0)
    expect(browser.locator("body")).not_to_contain_text("Pager Load Index")
    response = browser.goto(live_server.url + "/cockpit/kpi/pager-load/?company=comp-acme")
    assert response.status == 404
