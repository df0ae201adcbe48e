"""What the cockpit's tests share: the day they score comp-acme on and the moments around it, and a logged-in browser."""
import datetime
from contextlib import contextmanager

import pytest
from playwright.sync_api import sync_playwright

from cockpit.browser import CHROMIUM, chromium_available, launch_chromium

DAY = datetime.date(2024, 1, 15)
WEEK_BEFORE = DAY - datetime.timedelta(days=7)
MORNING = datetime.datetime(2024, 1, 15, 8, tzinfo=datetime.timezone.utc)

PASSWORD = "correct-horse-battery"  # the factories' password
NEEDS_CHROMIUM = pytest.mark.skipif(
    not chromium_available(), reason=f"No Chromium at {CHROMIUM}; .ci/setup installs Debian's chromium package."
)


def at(day, hour):
    return datetime.datetime.combine(day, datetime.time(hour), tzinfo=datetime.timezone.utc)


@contextmanager
def logged_in_page(base_url, username):
    """
    A page of Debian's Chromium logged in as `username` through the login form. Open it after the test's data
    exists: Playwright's sync API keeps an event loop in this thread, and Django refuses ORM calls while it runs.
    """
    with sync_playwright() as playwright:
        chromium = launch_chromium(playwright)
        context = chromium.new_context(viewport={"width": 1280, "height": 900})
        page = context.new_page()
        page.goto(base_url + "/accounts/login/")
        page.get_by_label("Username").fill(username)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Log in").click()
        page.wait_for_url(lambda url: "/accounts/login/" not in url)
        try:
            yield page
        finally:
            context.close()
            chromium.close()
