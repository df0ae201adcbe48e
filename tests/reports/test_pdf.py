"""The demo company's report printed by Debian's Chromium through Playwright, read back with pdftotext."""
import shutil
import subprocess

import pytest

from cockpit.browser import CHROMIUM, chromium_available
from kpis import services as kpi_services
from kpis.models import KpiDefinition
from reports.periods import month_of, period_between
from reports.rendering import print_pdf
from reports.services import on_demand_report
from scoring.models import ScoreSnapshot
from tests.reports.helpers import today

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not chromium_available(), reason=f"No Chromium at {CHROMIUM}; .ci/setup installs Debian's chromium package."),
    pytest.mark.skipif(shutil.which("pdftotext") is None, reason="pdftotext (poppler-utils) is not installed."),
]


def text_of(pdf, tmp_path):
    path = tmp_path / "report.pdf"
    path.write_bytes(pdf)
    return subprocess.run(["pdftotext", str(path), "-"], check=True, capture_output=True, text=True).stdout


def test_the_demo_companys_report_prints_its_composite_dimensions_and_the_months_approved_changes(
        scored_demo, alice, bob, executive, tmp_path):
    company, last_day = scored_demo
    mttr = KpiDefinition.objects.get(slug="mttr")
    proposal = kpi_services.propose_change(mttr, actor=alice, reason="Customers expect faster fixes", target=25).proposal
    kpi_services.approve_proposal(proposal, approver=bob, comment="Agreed in the ops review")
    # The month of the demo's last scored day so far: it holds the demo's scores and the approval made now.
    report = on_demand_report(company, period_between(month_of(last_day).start, today()), requested_by=executive)
    text = " ".join(text_of(bytes(report.pdf), tmp_path).split())
    snapshot = ScoreSnapshot.objects.get(pk=report.sources["snapshot"]["id"])
    assert snapshot.day == last_day
    assert f"COMPOSITE HEALTH SCORE {snapshot.composite:.1f}" in text
    for dimension in ("Reliability", "Security", "Product adoption", "Financials", "Efficiency"):
        assert f"{dimension} weight" in text
    assert "Mean Time to Resolve" in text and "Target: 30 → 25" in text
    assert "Proposed by alice: “Customers expect faster fixes”" in text
    assert "Approved by bob: “Agreed in the ops review”" in text
    assert "Alert methodology" in text and "NOISE REDUCTION" in text and "SELF-HEALED" in text


def test_printing_reaches_nothing_but_the_page(tmp_path):
    blocked = []
    html = (
        '<!doctype html><html><head><link rel="stylesheet" href="https://fonts.example.com/a.css">'
        '<style>@font-face { font-family: X; src: url(https://fonts.example.com/x.woff2); } body { font-family: X; }</style>'
        '</head><body><p>Inline only</p><img src="http://127.0.0.1:9/tracker.png"><iframe src="https://example.com/"></iframe>'
        '</body></html>'
    )
    pdf = print_pdf(html, blocked=blocked)
    assert "Inline only" in text_of(pdf, tmp_path)
    assert "https://fonts.example.com/a.css" in blocked and "http://127.0.0.1:9/tracker.png" in blocked
