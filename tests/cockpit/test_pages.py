"""The exec cockpit's pages through Django's test client: what each audience sees, the evidence links, query counts."""
import datetime
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from kpis import roles
from kpis.models import KpiDefinition
from scoring.services import compute_snapshots
from tenancy.models import Service
from tests.cockpit.helpers import DAY, MORNING, at
from tests.delivery.factories import DeploymentFactory
from tests.incidents.factories import IncidentFactory
from tests.helpers import member_of
from tests.kpis.factories import KpiDefinitionFactory, ObservationFactory


@pytest.fixture
def executive(db):
    return member_of(roles.EXECUTIVES, is_staff=False)


@pytest.fixture
def responder(db):
    return member_of(roles.RESPONDERS, is_staff=False)


def page(client, user, url, **params):
    client.force_login(user)
    response = client.get(url, params)
    return response, response.content.decode()


def hrefs(html, pattern):
    """The links of a page whose target matches `pattern`, unescaped."""
    return [href.replace("&amp;", "&") for href in re.findall(r'href="([^"]+)"', html) if re.search(pattern, href)]


def test_the_cockpit_needs_a_login_and_the_root_leads_there(client, acme):
    assert client.get("/").url == "/cockpit/"
    response = client.get("/cockpit/")
    assert response.status_code == 302
    assert response.url == "/accounts/login/?next=/cockpit/"
    assert client.get("/accounts/login/").status_code == 200


def test_a_person_logs_in_with_the_login_form_and_lands_on_the_cockpit(client, acme):
    member_of(roles.EXECUTIVES, "ceo", is_staff=False)
    response = client.post("/accounts/login/", {"username": "ceo", "password": "correct-horse-battery", "next": "/cockpit/"})
    assert response.url == "/cockpit/"
    assert client.get("/cockpit/").status_code == 200


def test_the_overview_shows_the_composite_its_band_and_action_and_the_five_dimensions(client, responder, acme):
    response, html = page(client, responder, "/cockpit/", company="comp-acme")
    assert response.status_code == 200
    # reliability = mean of mttr (45 min: halfway between target 30 and critical 60 -> 50) and pager-load (50 -> 33.3),
    # weighted 20:10 -> 44.4, the only dimension with data, so the composite too: Warning.
    assert response.context["composite"] == "44.4"
    assert "Warning" in html and "Active remediation" in html
    for label in ("Reliability", "Security", "Product adoption", "Financials", "Efficiency"):
        assert label in html
    dimension_links = hrefs(html, r"^/cockpit/dimensions/")
    assert len(set(dimension_links)) == 5
    assert 'href="#dimensions"' in html  # the composite links to the dimensions it is weighted from


def test_an_executive_never_sees_an_internal_kpi_in_tables_links_or_drill_down(client, executive, acme):
    _, overview = page(client, executive, "/cockpit/", company="comp-acme")
    _, dimension = page(client, executive, "/cockpit/dimensions/reliability/", company="comp-acme")
    _, incident = page(client, executive, f"/cockpit/incidents/{acme['incident'].pk}/")
    for html in (overview, dimension, incident):
        assert "Mean Time to Resolve" in html or "PD-000042" in html
        assert "Pager Load Index" not in html
        assert "pager-load" not in html
    internal, _ = page(client, executive, "/cockpit/kpi/pager-load/", company="comp-acme")
    assert internal.status_code == 404
    assert internal.context["message"] == "kpi: there is no KPI 'pager-load'."
    version = KpiDefinition.history.filter(slug="pager-load").first()
    assert page(client, executive, f"/cockpit/kpi/pager-load/versions/{version.history_id}/")[0].status_code == 404


def test_a_responder_sees_the_internal_kpi_and_its_page(client, responder, acme):
    _, overview = page(client, responder, "/cockpit/", company="comp-acme")
    assert "Pager Load Index" in overview
    assert page(client, responder, "/cockpit/kpi/pager-load/", company="comp-acme")[0].status_code == 200


def test_every_kpi_value_leads_to_its_observations_their_incident_and_the_definition_version(client, executive, acme):
    _, overview = page(client, executive, "/cockpit/", company="comp-acme")
    kpi_url = hrefs(overview, r"^/cockpit/kpi/mttr/")[0]
    kpi_page = client.get(kpi_url)
    html = kpi_page.content.decode()
    assert kpi_page.context["value"] == "45 min"
    incident_url = f"/cockpit/incidents/{acme['incident'].pk}/"
    assert incident_url in hrefs(html, r"^/cockpit/incidents/\d+/$")
    version_url = hrefs(html, r"^/cockpit/kpi/mttr/versions/")[0]
    version_page = client.get(version_url)
    assert version_page.status_code == 200
    assert version_page.context["version"] == 1
    assert "reason" not in version_page.content.decode().lower()  # who and why are for history readers only
    incident = client.get(incident_url).content.decode()
    assert "PD-000042" in incident
    assert "Alerts (4)" in incident
    assert "2. Gather" in incident
    assert "initial-update" in incident
    # ...and back from the incident to the KPI page of the day it was observed.
    assert any("day=2024-01-15" in href for href in hrefs(incident, r"^/cockpit/kpi/mttr/"))


def test_the_kpi_page_charts_each_day_and_a_day_shows_that_days_observations(client, executive, acme):
    response, html = page(client, executive, "/cockpit/kpi/mttr/", company="comp-acme", day="2024-01-08")
    assert response.context["value"] == "55 min"
    assert [row["value"] for row in response.context["observations"]] == ["55 min"]
    chart_days = hrefs(html, r"day=2024-01-(08|15)$")
    assert {href[-10:] for href in chart_days} == {"2024-01-08", "2024-01-15"}
    assert "<svg" in html


def test_the_trend_arrow_compares_with_the_snapshot_a_week_earlier(client, executive, acme):
    response, _ = page(client, executive, "/cockpit/", company="comp-acme")
    mttr = next(row for row in response.context["kpis"] if row["slug"] == "mttr")
    # 55 -> 45 minutes: down, and lower is better.
    assert mttr["arrow"]["symbol"] == "↓"
    assert mttr["arrow"]["css"] == "better"
    assert (mttr["observations"], mttr["coverage"]) == (1, "counted")


def test_the_methodology_panel_shows_its_figures_and_measurement_period(client, executive, acme):
    _, html = page(client, executive, "/cockpit/", company="comp-acme")
    assert "Alert methodology" in html
    assert "2023-12-17 to 2024-01-15" in html
    # Four alerts correlated into one incident: 75 % noise reduction.
    assert "75.0 %" in html
    assert "4 alerts → 1 incidents" in html


def test_the_cascade_leads_from_the_company_to_its_domains_and_services(client, executive, acme):
    _, company_html = page(client, executive, "/cockpit/", company="comp-acme")
    assert "/cockpit/?company=comp-acme&scope=api" in hrefs(company_html, r"scope=api$")
    domain, domain_html = page(client, executive, "/cockpit/", company="comp-acme", scope="api")
    assert domain.context["scope"].name == "API"
    assert "/cockpit/?company=comp-acme&scope=api%2Fgateway" in hrefs(domain_html, r"scope=api%2Fgateway$")
    service, _ = page(client, executive, "/cockpit/", company="comp-acme", scope="api/gateway")
    assert service.context["scope"].name == "Gateway"
    assert service.context["composite"] == "44.4"  # the incident's observations are the service's own


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"company": "comp-nope"}, "company: no company has the slug 'comp-nope'."),
        ({"company": "comp-acme", "scope": "payments"}, "scope: 'comp-acme' has no domain 'payments'."),
        ({"company": "comp-acme", "day": "yesterday"}, "day: 'yesterday' is not a date (YYYY-MM-DD)."),
    ],
)
def test_an_unknown_company_scope_or_day_is_a_404_naming_it(client, executive, acme, params, message):
    response, _ = page(client, executive, "/cockpit/", **params)
    assert response.status_code == 404
    assert response.context["message"] == message


def test_an_unknown_dimension_or_incident_is_a_404_naming_it(client, executive, acme):
    assert page(client, executive, "/cockpit/dimensions/morale/")[0].context["message"].startswith("dimension: 'morale' is not one of")
    assert page(client, executive, "/cockpit/incidents/999999/")[0].context["message"] == "incident: there is no incident 999999."


def test_an_incident_merged_into_another_is_shown_and_leads_to_the_one_it_went_into(client, executive, acme):
    kept = IncidentFactory(service=Service.objects.get(slug="gateway"), external_id="alert-1", title="cpu on web-1")
    merged = IncidentFactory(service=kept.service, external_id="alert-2", title="cpu on web-1 (later)", merged_into=kept)
    response, html = page(client, executive, f"/cockpit/incidents/{merged.pk}/")
    assert response.status_code == 200
    assert "alert-2: cpu on web-1 (later)" in html
    assert f'Merged into <a href="/cockpit/incidents/{kept.pk}/">alert-1</a>' in html


def test_pages_run_the_same_few_queries_however_many_kpis_there_are(client, responder, acme):
    def queries(url, **params):
        client.force_login(responder)
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url, params).status_code == 200
        return len(captured)

    urls = [
        ("/cockpit/", {"company": "comp-acme"}),
        ("/cockpit/dimensions/reliability/", {"company": "comp-acme"}),
        ("/cockpit/kpi/mttr/", {"company": "comp-acme"}),
        (f"/cockpit/incidents/{acme['incident'].pk}/", {}),
    ]
    before = [queries(url, **params) for url, params in urls]
    for number in range(12):
        kpi = KpiDefinitionFactory(slug=f"extra-{number}", visibility="exec" if number % 2 else "internal")
        ObservationFactory(kpi=kpi, company=acme["company"], domain=acme["service"].domain, service=acme["service"],
                           incident=acme["incident"], observed_at=MORNING, value=40)
    compute_snapshots(DAY)
    after = [queries(url, **params) for url, params in urls]
    assert after == before
    assert max(after) <= 25


def test_each_page_stays_within_a_handful_of_queries(client, executive, acme, django_assert_max_num_queries):
    client.force_login(executive)
    with django_assert_max_num_queries(22):
        client.get("/cockpit/", {"company": "comp-acme"})
    with django_assert_max_num_queries(12):
        client.get("/cockpit/kpi/mttr/", {"company": "comp-acme"})
    with django_assert_max_num_queries(14):
        client.get(f"/cockpit/incidents/{acme['incident'].pk}/")


def test_reviews_list_the_owners_definitions_overdue_first_with_their_admin_pages(client, acme):
    owner = member_of(roles.KPI_OWNERS)
    today = datetime.date.today()
    later = KpiDefinitionFactory(slug="later-kpi", name="Later KPI", owner=owner)
    overdue = KpiDefinitionFactory(slug="overdue-kpi", name="Overdue KPI", owner=owner)
    KpiDefinition.objects.filter(pk=later.pk).update(next_review_due=today + datetime.timedelta(days=20))
    KpiDefinition.objects.filter(pk=overdue.pk).update(next_review_due=today - datetime.timedelta(days=3))
    response, html = page(client, owner, "/cockpit/reviews/")
    assert [row["definition"].slug for row in response.context["rows"]] == ["overdue-kpi", "later-kpi"]
    assert "overdue 3 days" in html
    assert f"/admin/kpis/kpidefinition/{overdue.pk}/change/" in html
    assert "Mean Time to Resolve" not in html  # not theirs


def test_a_daily_kpi_shows_the_figures_behind_its_value_and_links_to_the_incidents_counted(client, executive, acme):
    response, html = page(client, executive, "/cockpit/kpi/noise-reduction/", company="comp-acme")
    figures = {figure["name"]: figure["value"] for figure in response.context["evidence"]["figures"]}
    assert (figures["raw alerts"], figures["incidents created"], figures["noise reduction pct"]) == ("4", "1", "75")
    incidents_url = hrefs(html, r"^/cockpit/incidents/\?")[0]
    assert "since=2024-01-15&until=2024-01-15&by=detected" in incidents_url
    listing = client.get(incidents_url)
    assert [row["incident"].external_id for row in listing.context["incidents"]] == ["PD-000042"]
    assert listing.context["incidents"][0]["incident"].alert_count == 4


def test_a_dora_kpi_shows_the_week_its_value_covers_without_an_incidents_link(client, executive, acme):
    frequency = KpiDefinitionFactory(
        slug="deployment-frequency", name="Deployment Frequency", units="per_day", direction="higher", target=10,
        critical_threshold=1, dimension="efficiency", weight=0,
    )
    for days_before in (0, 3, 6, 7):  # the one 7 days before the day lies outside its week
        DeploymentFactory(service=acme["service"], created_at=at(DAY, 9) - datetime.timedelta(days=days_before))
    ObservationFactory(kpi=frequency, company=acme["company"], observed_at=at(DAY, 0), value=3 / 7)
    compute_snapshots(DAY)

    response, html = page(client, executive, "/cockpit/kpi/deployment-frequency/", company="comp-acme")

    evidence = response.context["evidence"]
    assert (f"{evidence['start']:%Y-%m-%d}", f"{evidence['end']:%Y-%m-%d}") == ("2024-01-09", "2024-01-16")
    figures = {figure["name"]: figure["value"] for figure in evidence["figures"]}
    assert figures["production deployments"] == "3"
    assert not hrefs(html, r"^/cockpit/incidents/\?")
