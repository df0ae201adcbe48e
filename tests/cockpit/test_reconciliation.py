"""
The cockpit lists the parts of every score it shows and they add up to it, for every persona, scope and dimension of
the demo's data: the composite's dimensions, each dimension's parts on the overview and on its own page; the cascade
rule stands next to the company score; what a persona may not see is one line without names.
"""
import html
import re

import pytest

from kpis import roles
from kpis.models import KpiDefinition
from scoring.cascade import CASCADE_RULE
from scoring.models import SCORED_DIMENSIONS
from tests.helpers import member_of, scope_params

# A shown share has at most one decimal and a shown score one: each part may be off by this much, and the total too.
ROUNDING = 0.05


def logged_in(client, persona):
    client.force_login(member_of(roles.PERSONA_GROUPS[persona], is_staff=False))


def number(text):
    return float(html.unescape(text).replace("%", "").strip())


def rows(fragment, row_start):
    """The pieces of `fragment` that start with `row_start`, each up to the next."""
    return fragment.split(row_start)[1:]


def first(row, css_class):
    return re.search(rf'class="[^"]*{css_class}">([^<]*)<', row).group(1)


def shown_parts(fragment, row_start):
    """[(share, score)] of the parts listed in `fragment`, each row starting with `row_start`."""
    return [(number(first(row, "part-share")), number(first(row, "part-score"))) for row in rows(fragment, row_start)]


def assert_adds_up(score_text, parts):
    assert sum(share for share, _ in parts) == pytest.approx(100, abs=0.1 * len(parts))
    total = sum(share * score for share, score in parts) / 100
    assert total == pytest.approx(number(score_text), abs=ROUNDING * (len(parts) + 2)), parts


@pytest.mark.slow
def test_every_score_on_every_page_lists_parts_that_add_up_to_it(client, scored_demo):
    company, day = scored_demo
    internal = list(KpiDefinition.objects.filter(visibility="internal").values_list("name", flat=True))
    dimensions_checked = 0
    for persona in roles.PERSONA_GROUPS:
        logged_in(client, persona)
        for scope in scope_params(company):
            params = {"company": company.slug, "scope": scope, "day": day.isoformat()}
            page = client.get("/cockpit/", params).content.decode()
            composite = re.search(r'class="score-big"[^>]*>([^<]+)<', page).group(1)
            if composite.strip() != "–":
                composite_list = page.split('data-testid="composite-parts"')[1].split("</ul>")[0]
                assert_adds_up(composite, shown_parts(composite_list, '<li class="part">'))
            for row in page.split('<li data-dimension="')[1:]:
                score = re.search(r'class="score"[^>]*>([^<]+)<', row).group(1)
                if score.strip() == "–":
                    assert 'data-testid="dimension-parts"' not in row
                    continue
                assert_adds_up(score, shown_parts(row, '<span class="part">'))
            for dimension in SCORED_DIMENSIONS:
                detail = client.get(f"/cockpit/dimensions/{dimension.value}/", params).content.decode()
                score = re.search(r'class="score-big">([^<]+)<', detail).group(1)
                if score.strip() == "–":
                    continue
                assert_adds_up(score, shown_parts(detail, '<tr class="part depth-0"'))
                dimensions_checked += 1
                for part in rows(detail, '<tr class="part depth-0"'):
                    members = [number(first(row, "part-score")) for row in rows(part, '<tr class="part depth-1"')]
                    if members:
                        mean = number(first(part, "part-score"))
                        assert sum(members) / len(members) == pytest.approx(mean, abs=2 * ROUNDING)
                if persona != "responder":
                    assert not [name for name in internal if name in detail], (persona, scope, dimension)
            if persona != "responder":
                assert not [name for name in internal if name in page], (persona, scope)
    assert dimensions_checked > 3 * len(scope_params(company))


def test_the_company_score_states_the_cascade_rule_and_security_its_formula_and_hidden_kpis(client, scored_demo):
    company, day = scored_demo
    logged_in(client, "exec")
    page = client.get("/cockpit/", {"company": company.slug, "day": day.isoformat()}).content.decode()
    card = page.split('data-testid="composite"')[1].split('<div class="card')[0]
    assert CASCADE_RULE in html.unescape(card)
    security = client.get("/cockpit/dimensions/security/", {"company": company.slug, "day": day.isoformat()}).content.decode()
    text = html.unescape(security)
    assert "2 internal KPIs" in text and "Security Scoring Formula" in text
    assert re.search(r"100 - min\(critical_cve_age_days × 10, 100\) = 100 - min\([\d.]+ × 10, 100\) = [\d.]+", text)
