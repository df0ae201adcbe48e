"""What a report says: the snapshots' scores and changes, breaches, approved changes, overdue reviews, the methodology."""
import datetime

import pytest

from kpis import services as kpi_services
from kpis.models import KpiDefinition
from kpis.proof import methodology_kpis
from reports.choices import Audience
from reports.content import report_content
from reports.periods import period_between
from reports.rendering import render_html
from scoring.models import Breach, ScoreSnapshot
from scoring.weights import approve_weights_proposal, propose_weights
from tests.incidents.factories import AlertFactory, IncidentFactory
from tests.kpis.factories import KpiDefinitionFactory
from tests.reports.helpers import at


def html_of(scored, audience):
    context, sources = report_content(scored["company"], scored["period"], audience)
    context["generated_at"] = datetime.datetime.now(datetime.timezone.utc)
    return render_html(context), context, sources


@pytest.fixture
def approved_changes(scored, alice, bob):
    """An approved target change of the exec MTTR and of the internal pager load, and approved dimension weights."""
    proposals = {}
    for kpi, target, reason in ((scored["mttr"], 25, "Customers expect faster fixes"), (scored["pager"], 20, "Less paging")):
        proposal = kpi_services.propose_change(kpi, actor=alice, reason=reason, target=target).proposal
        proposals[kpi.slug] = kpi_services.approve_proposal(proposal, approver=bob, comment="Agreed in the ops review")
    weights = propose_weights(actor=alice, reason="Security matters more this year", reliability=20, security=30,
                              product_adoption=20, financials=15, efficiency=15)
    proposals["weights"] = approve_weights_proposal(weights, approver=bob, comment="Board decision")
    return proposals


def test_the_composite_and_dimensions_are_the_last_snapshot_of_the_period_against_the_previous_one(scored):
    html, context, sources = html_of(scored, Audience.EXEC)
    now = ScoreSnapshot.objects.get(company=scored["company"], day=scored["day"], level="company")
    before = ScoreSnapshot.objects.get(company=scored["company"], day=scored["period"].previous().end - datetime.timedelta(days=2),
                                       level="company")
    # The cockpit's numbers for those days, not a recomputation.
    assert context["composite"] == f"{now.composite:.1f}"
    assert context["composite_change"] == f"{now.composite - before.composite:+.1f}"
    assert [row["label"] for row in context["dimensions"]] == ["Reliability", "Security", "Product adoption", "Financials", "Efficiency"]
    reliability = context["dimensions"][0]
    assert reliability["score"] == f"{now.dimensions['reliability']['score']:.1f}"
    assert sources["snapshot"] == {
        "id": now.pk, "day": now.day.isoformat(), "computed_at": now.computed_at.isoformat(),
        "weights_history_id": now.inputs["weights_history_id"],
        "definitions": {"mttr": now.inputs["definitions"]["mttr"], "vuln-sla-compliance": now.inputs["definitions"]["vuln-sla-compliance"]},
    }
    assert sources["previous_snapshot"]["id"] == before.pk
    assert "<svg" in html and 'class="line composite"' in html


def test_the_kpis_that_moved_a_dimension_most_are_named_with_their_values(scored):
    html, context, _ = html_of(scored, Audience.EXEC)
    movers = context["dimensions"][0]["movers"]
    # MTTR 55 -> 45 min against target 30 / critical 60: score 16.7 -> 50.0.
    assert [(mover["name"], mover["value_before"], mover["value_now"], mover["change"]) for mover in movers] == [
        ("Mean Time to Resolve", "55 min", "45 min", "+33.3")
    ]
    assert "Moved most by: <strong>Mean Time to Resolve</strong>" in html


def test_an_executives_report_has_no_internal_kpi_anywhere(scored, approved_changes):
    html, context, sources = html_of(scored, Audience.EXEC)
    assert "Pager Load Index" not in html and "pager-load" not in str(sources)
    assert "Less paging" not in html
    internal_html, _, internal_sources = html_of(scored, Audience.INTERNAL)
    assert "Pager Load Index" in internal_html and "Less paging" in internal_html
    assert "pager-load" in internal_sources["snapshot"]["definitions"]


def test_the_changes_that_came_into_force_say_who_proposed_who_approved_and_why(scored, approved_changes):
    html, context, sources = html_of(scored, Audience.EXEC)
    mttr_change, weights_change = context["changes"]
    assert mttr_change["subject"] == "Mean Time to Resolve"
    assert mttr_change["changes"] == [{"field": "Target", "old": "30", "new": "25"}]
    assert (mttr_change["author"], mttr_change["reason"], mttr_change["approver"], mttr_change["comment"]) == (
        "alice", "Customers expect faster fixes", "bob", "Agreed in the ops review")
    assert weights_change["subject"] == "Dimension weights"
    assert {"field": "Security", "old": "25", "new": "30"} in weights_change["changes"]
    assert "Customers expect faster fixes" in html and "Board decision" in html
    assert sources["definition_proposal_ids"] == [approved_changes["mttr"].pk]
    assert sources["weights_proposal_ids"] == [approved_changes["weights"].pk]


def test_changes_decided_outside_the_period_or_rejected_are_not_listed(scored, alice, bob):
    proposal = kpi_services.propose_change(scored["mttr"], actor=alice, reason="Too strict", target=40).proposal
    kpi_services.reject_proposal(proposal, approver=bob, comment="No")
    proposal = kpi_services.propose_change(scored["vulns"], actor=alice, reason="Tighter", target=97).proposal
    kpi_services.approve_proposal(proposal, approver=bob, comment="Yes")
    earlier = scored["period"].previous()
    proposal.__class__.objects.filter(pk=proposal.pk).update(decided_at=at(earlier.end, 12))
    _, context, _ = html_of(scored, Audience.EXEC)
    assert context["changes"] == []


def test_breaches_opened_and_closed_in_the_period_are_listed_apart(scored):
    period, company = scored["period"], scored["company"]
    common = {"kpi": scored["mttr"], "company": company, "critical_threshold": 60, "worst_value": 90}
    Breach.objects.create(started_at=at(period.start, 1), opened_at=at(period.start, 2), closed_at=at(period.start + datetime.timedelta(days=3), 2), **common)
    Breach.objects.create(started_at=at(period.end, 1), opened_at=at(period.end, 2), **common)
    Breach.objects.create(started_at=at(period.start - datetime.timedelta(days=9), 1), opened_at=at(period.start - datetime.timedelta(days=9), 2),
                          closed_at=at(period.start + datetime.timedelta(days=1), 5), **common)
    Breach.objects.create(kpi=scored["pager"], company=company, critical_threshold=60, worst_value=90,
                          started_at=at(period.start, 1), opened_at=at(period.start, 3))
    _, context, sources = html_of(scored, Audience.EXEC)
    assert [(row["opened_at"].date(), row["closed_at"] is not None) for row in context["breaches_opened"]] == [
        (period.start, True), (period.end, False)]
    assert [row["duration"] for row in context["breaches_closed"]] == ["10.1 d", "3.0 d"]
    assert len(sources["breach_ids"]) == 3


def test_reviews_overdue_at_the_end_of_the_period_are_listed_most_overdue_first(scored):
    end = scored["period"].end
    KpiDefinition.objects.filter(slug="mttr").update(next_review_due=end - datetime.timedelta(days=40))
    KpiDefinition.objects.filter(slug="vuln-sla-compliance").update(next_review_due=end + datetime.timedelta(days=1))
    KpiDefinition.objects.filter(slug="pager-load").update(next_review_due=end - datetime.timedelta(days=50))
    html, context, _ = html_of(scored, Audience.EXEC)
    assert [(row["name"], row["days_overdue"]) for row in context["overdue_reviews"]] == [("Mean Time to Resolve", 40)]
    assert "40 days" in html


def test_the_methodology_proof_is_the_cockpits_for_the_period(scored):
    KpiDefinitionFactory(slug="noise-reduction", name="Alert Noise Reduction", units="percent", direction="higher",
                         target=40, critical_threshold=20, dimension="none", weight=0)
    company, service, day = scored["company"], scored["service"], scored["day"]
    incident = IncidentFactory(service=service, detected_at=at(day, 8), correlation_key="web-1|disk_full")
    for minute in (0, 2, 4, 6):
        AlertFactory(company=company, service=service, incident=incident, issued_at=at(day, 8) + datetime.timedelta(minutes=minute))
    html, context, _ = html_of(scored, Audience.EXEC)
    start, end = scored["period"].moments
    assert context["methodology"] == methodology_kpis(company, start=start, end=end,
                                                      visible_slugs=["mttr", "noise-reduction", "vuln-sla-compliance"])
    assert context["methodology"]["noise_reduction"]["raw_alerts"] == 4
    assert "4 alerts → " in html


def test_a_period_without_scores_says_so(scored):
    empty = period_between(datetime.date(2001, 1, 1), datetime.date(2001, 1, 31))
    context, sources = report_content(scored["company"], empty, Audience.EXEC)
    context["generated_at"] = datetime.datetime.now(datetime.timezone.utc)
    assert "No scores are stored for Acme in this period." in render_html(context)
    assert sources["snapshot"] is None
