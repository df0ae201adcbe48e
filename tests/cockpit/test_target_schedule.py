"""A KPI's chart draws the target and critical threshold each day was scored against, stepping where a dated target came in."""
import datetime
import re

import pytest
from playwright.sync_api import expect

from kpis import roles
from scoring.services import compute_snapshots
from tests.cockpit.helpers import DAY, NEEDS_CHROMIUM, at, logged_in_page
from tests.helpers import member_of
from tests.kpis.factories import KpiDefinitionFactory, ObservationFactory
from tests.tenancy.factories import CompanyFactory

STEP_DAY = DAY - datetime.timedelta(days=3)


@pytest.fixture
def stepped(db):
    """comp-acme's MTTR scored on the six days up to DAY; from STEP_DAY its target is 20 minutes, not 30."""
    company = CompanyFactory(slug="comp-acme", name="Acme")
    mttr = KpiDefinitionFactory(
        slug="mttr", name="Mean Time to Resolve", target=30, critical_threshold=60,
        target_schedule=[{"from": f"{STEP_DAY:%Y-%m-%d}", "target": 20}, {"from": "2099-01-01", "target": 15}],
    )
    for back in range(6):
        day = DAY - datetime.timedelta(days=back)
        ObservationFactory(kpi=mttr, company=company, observed_at=at(day, 9), value=25)
        compute_snapshots(day)
    return member_of(roles.EXECUTIVES, username="erin", is_staff=False)


def step_heights(path):
    """The distinct heights a stepped SVG path ('M x,y H x V y ...') runs at."""
    return {float(y) for y in re.findall(r"(?:,|V)([\d.]+)", path)}


@pytest.mark.django_db
def test_the_kpi_chart_steps_the_target_on_the_day_the_schedule_moves_it_and_lists_the_schedule(client, stepped):
    client.force_login(stepped)
    response = client.get("/cockpit/kpi/mttr/?company=comp-acme")
    assert response.status_code == 200, response
    page = response.content.decode()

    target_path = re.search(r'<path class="ref step target" d="([^"]+)"', page).group(1)
    critical_path = re.search(r'<path class="ref step critical" d="([^"]+)"', page).group(1)
    assert len(step_heights(target_path)) == 2 and " V" in target_path
    assert len(step_heights(critical_path)) == 1
    assert "in force today: target 20 min, critical 60 min" in page
    assert f"<td>{STEP_DAY:%Y-%m-%d}</td><td>20 min</td><td>60 min</td>" in page
    assert "<td>2099-01-01 (upcoming)</td><td>15 min</td>" in page


@pytest.mark.slow
@NEEDS_CHROMIUM
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_an_executive_sees_the_stepped_target_line_and_the_dated_targets(live_server, stepped):
    with logged_in_page(live_server.url, "erin") as page:
        page.goto(live_server.url + "/cockpit/kpi/mttr/?company=comp-acme")

        target = page.locator("svg path.ref.step.target")
        expect(target).to_be_visible()
        box_of_step = target.bounding_box()
        schedule = page.get_by_test_id("target-schedule")
        expect(schedule).to_contain_text("in force today: target 20 min")
        expect(schedule.locator("tr.future")).to_contain_text("2099-01-01 (upcoming)")
    # A flat line has no height; the step from 30 to 20 minutes gives the drawn target line one.
    assert box_of_step["height"] > 5
