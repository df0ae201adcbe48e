"""The cockpit's teams, tenants and cohorts page and its DORA tiers page."""
import re

import pytest

from kpis import roles
from tests.helpers import member_of
from tests.scoring.helpers import DAY, load_catalogue, product_history, team_history
from tests.tenancy.factories import CompanyFactory


@pytest.fixture
def acme(db):
    load_catalogue()
    company = CompanyFactory(slug="comp-acme", name="Acme")
    team_history(company)
    product_history(company)
    return company


def page(client, url, **params):
    client.force_login(member_of(roles.EXECUTIVES, "erin"))
    response = client.get(url, {"company": "comp-acme", "day": DAY.isoformat(), **params})
    return response, response.content.decode()


def text(html):
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_the_teams_are_listed_and_one_teams_dimensions_list_their_parts(client, acme):
    response, html = page(client, "/cockpit/levels/", level="team", member="payments-team")

    assert response.status_code == 200
    shown = text(html)
    assert re.search(r"payments-team \d+\.\d ", shown)
    assert "search-team" in shown
    assert re.search(r"Teams\s*</a>\s*<a[^>]*>Tenants</a>\s*<a[^>]*>Cohorts</a>", html)
    # One team: its composite's parts and each dimension's, with the KPIs' values.
    assert "Team payments-team" in shown
    assert re.search(r"Deployment Frequency</a>\s*</td>\s*<td[^>]*>2/day", html)
    assert re.search(r"Mean Time to Resolve</a>\s*</td>\s*<td[^>]*>45 min", html)
    assert 'team=payments-team">DORA tiers of payments-team' in html


def test_a_cohort_is_picked_by_name(client, acme):
    response, html = page(client, "/cockpit/levels/", level="cohort", member="Enterprise")

    assert response.status_code == 200
    assert "Cohort Enterprise" in text(html)
    assert re.search(r"Active Tenants \(DAU\)</td><td[^>]*>100 %", html)


def test_an_unknown_level_or_member_is_the_not_found_page_naming_it(client, acme):
    response, html = page(client, "/cockpit/levels/", level="region")
    assert response.status_code == 404 and "level: there is no level" in html
    response, html = page(client, "/cockpit/levels/", level="tenant", member="tnt-nope")
    assert response.status_code == 404 and "member:" in html


def test_the_dora_page_shows_each_metrics_tier_its_history_and_the_thresholds(client, acme):
    response, html = page(client, "/cockpit/dora/", team="payments-team")

    assert response.status_code == 200
    rows = dict(re.findall(r'<tr data-metric="([\w-]+)">(.*?)</tr>', html, re.S))
    assert re.search(r'data-testid="tier">Elite<', rows["lead-time-for-changes"])
    assert re.search(r'data-testid="tier">High<', rows["deployment-frequency"])
    assert re.search(r'data-testid="tier">Elite<', rows["mttr"])
    assert rows["deployment-frequency"].count('title="2024-') == 30
    assert "Accelerate State of DevOps Report 2024" in html
    assert re.search(r'class="current">Team payments-team<', html)
    assert "Team search-team" in html
    response, html = page(client, "/cockpit/dora/", team="nobody")
    assert response.status_code == 404 and "team:" in html
