"""The cockpit's DORA tiers and team scores in a real headless Chromium (Debian's, driven by Playwright)."""
import pytest
from playwright.sync_api import expect

from kpis import roles
from tests.cockpit.helpers import NEEDS_CHROMIUM, logged_in_page
from tests.helpers import member_of
from tests.scoring.helpers import DAY, load_catalogue, team_history
from tests.tenancy.factories import CompanyFactory

pytestmark = [
    pytest.mark.slow,
    NEEDS_CHROMIUM,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


@pytest.fixture
def browser(live_server, db):
    """A Chromium page logged in as an executive of comp-acme, whose teams have a delivery history ending on DAY."""
    load_catalogue()
    team_history(CompanyFactory(slug="comp-acme", name="Acme"))
    member_of(roles.EXECUTIVES, username="erin", is_staff=False)
    with logged_in_page(live_server.url, "erin") as page:
        yield page


def test_an_executive_picks_a_team_and_reads_each_metrics_tier_and_its_history(live_server, browser):
    browser.goto(f"{live_server.url}/cockpit/dora/?company=comp-acme&day={DAY}")
    expect(browser.get_by_role("heading", level=1)).to_have_text("DORA tiers: Acme")
    browser.get_by_test_id("dora-picker").get_by_role("link", name="Team payments-team").click()

    expect(browser.get_by_role("heading", level=1)).to_have_text("DORA tiers: payments-team")
    panel = browser.get_by_test_id("dora-panel")
    expect(panel.locator("tr[data-metric=lead-time-for-changes] [data-testid=tier]")).to_have_text("Elite")
    expect(panel.locator("tr[data-metric=deployment-frequency] [data-testid=tier]")).to_have_text("High")
    expect(panel.locator("tr[data-metric=mttr] [data-testid=tier]")).to_have_text("Elite")
    expect(panel.locator("tr[data-metric=change-failure-rate] [data-testid=tier]")).to_have_text("Elite")
    # The history: one cell a day, coloured by its tier, the days without data grey.
    strip = panel.locator("tr[data-metric=deployment-frequency] .tier-strip span")
    expect(strip).to_have_count(30)
    expect(strip.last).to_have_attribute("title", f"{DAY}: high")
    expect(strip.last).to_have_class("fill-healthy")
    expect(browser.get_by_test_id("dora-thresholds")).to_contain_text("between once per month and once every six months")


def test_from_a_teams_scores_to_its_tiers(live_server, browser):
    browser.goto(f"{live_server.url}/cockpit/levels/?company=comp-acme&level=team&day={DAY}")
    browser.get_by_test_id("level-members").get_by_role("link", name="payments-team").click()
    expect(browser.get_by_test_id("member-scores")).to_contain_text("Team payments-team")
    browser.get_by_role("link", name="DORA tiers of payments-team").click()
    expect(browser.get_by_role("heading", level=1)).to_have_text("DORA tiers: payments-team")
