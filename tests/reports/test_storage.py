"""Reports are stored once and never change; the monthly one is built once per company and month, and announced."""
import datetime

import pytest
from django.conf import settings
from django.contrib.admin.sites import site
from django.core.exceptions import ValidationError
from django.test import RequestFactory

from kpis import services as kpi_services
from reports.choices import Audience, ReportKind
from reports.models import Report
from reports.periods import month_before, month_of
from reports.services import monthly_report, on_demand_report
from reports.signals import report_ready
from reports.tasks import build_monthly_report, start_monthly_reports
from scoring.services import compute_snapshots
from tests.helpers import stored
from tests.kpis.factories import ObservationFactory
from tests.reports.helpers import at, today
from tests.tenancy.factories import CompanyFactory


@pytest.fixture
def announced():
    """The reports report_ready announced, in order."""
    reports = []

    def receive(sender, report, **kwargs):
        reports.append(report)

    report_ready.connect(receive, dispatch_uid="tests.reports.announced")
    yield reports
    report_ready.disconnect(dispatch_uid="tests.reports.announced")


def test_a_monthly_report_is_built_once_per_company_and_month_and_announced_once(
        scored, printed, announced, django_capture_on_commit_callbacks):
    month = month_of(scored["day"])
    with django_capture_on_commit_callbacks(execute=True):
        first, created = monthly_report(scored["company"], month)
    with django_capture_on_commit_callbacks(execute=True):
        again, created_again = monthly_report(scored["company"], month)
        build_monthly_report(scored["company"].pk, month.start.isoformat())
    assert (created, created_again) == (True, False)
    assert again.pk == first.pk
    assert Report.objects.count() == 1 and len(printed) == 1
    assert announced == [first]
    assert (first.kind, first.audience, first.requested_by, first.period_start, first.period_end) == (
        ReportKind.MONTHLY, Audience.EXEC, None, month.start, month.end)
    assert bytes(first.pdf).startswith(b"%PDF")


def test_the_beat_builds_last_months_report_of_every_company_on_the_first(scored, printed, announced,
                                                                          django_capture_on_commit_callbacks):
    entry = next(entry for entry in settings.CELERY_BEAT_SCHEDULE.values() if entry["task"] == "reports.tasks.start_monthly_reports")
    assert entry["schedule"].day_of_month == {1}
    CompanyFactory(slug="comp-globex")
    with django_capture_on_commit_callbacks(execute=True):
        start_monthly_reports()  # eager: each company's task runs in turn
        start_monthly_reports()
    last_month = month_before(today())
    reports = Report.objects.order_by("company__slug")
    assert [(report.company.slug, report.period_start, report.kind) for report in reports] == [
        ("comp-acme", last_month.start, ReportKind.MONTHLY), ("comp-globex", last_month.start, ReportKind.MONTHLY)]
    assert len(announced) == 2


def test_on_demand_reports_are_each_kept_with_who_asked_and_their_audience(scored, printed, executive, auditor):
    first = on_demand_report(scored["company"], scored["period"], requested_by=executive)
    second = on_demand_report(scored["company"], scored["period"], requested_by=auditor)
    assert (first.kind, first.requested_by, first.audience) == (ReportKind.ON_DEMAND, executive, Audience.EXEC)
    assert (second.requested_by, second.audience) == (auditor, Audience.INTERNAL)
    assert "Pager Load Index" not in first.html and "Pager Load Index" in second.html


def test_a_stored_report_never_changes_when_definitions_change_or_scores_are_recomputed(scored, printed, alice, bob):
    report = on_demand_report(scored["company"], scored["period"], requested_by=alice)
    kept = (report.html, bytes(report.pdf), report.sources, report.created_at)
    # MTTR's target moves from 30 to 50 minutes, and the period's day is scored again with it in force.
    proposal = kpi_services.propose_change(scored["mttr"], actor=alice, reason="Realistic target", target=50).proposal
    kpi_services.approve_proposal(proposal, approver=bob, comment="Agreed")
    ObservationFactory(kpi=scored["mttr"], company=scored["company"], observed_at=at(scored["day"], 15), value=5)
    compute_snapshots(scored["day"])
    rebuilt = on_demand_report(scored["company"], scored["period"], requested_by=alice)
    assert rebuilt.html != kept[0]  # what a new report says now...
    again = stored(report)
    assert (again.html, bytes(again.pdf), again.sources, again.created_at) == kept  # ...and the stored one, as built
    assert rebuilt.sources["snapshot"]["id"] != report.sources["snapshot"]["id"]  # the day's snapshots were replaced


def test_saving_a_stored_report_again_is_refused(scored, printed, alice):
    report = on_demand_report(scored["company"], scored["period"], requested_by=alice)
    report.html = "<p>rewritten</p>"
    with pytest.raises(ValidationError, match="never changes"):
        report.save()
    with pytest.raises(ValidationError, match="never changes"):
        stored(report).save()
    assert stored(report).html != "<p>rewritten</p>"


def test_the_admin_shows_reports_read_only(scored, printed, alice, superuser):
    report = on_demand_report(scored["company"], scored["period"], requested_by=alice)
    request = RequestFactory().get("/admin/")
    request.user = superuser
    admin = site._registry[Report]
    assert not admin.has_add_permission(request)
    assert not admin.has_change_permission(request, report)
    assert not admin.has_delete_permission(request, report)


def test_a_monthly_report_names_the_month_and_compares_it_with_the_month_before(scored, printed):
    month = month_of(datetime.date(2026, 3, 14))
    report, _ = monthly_report(scored["company"], month)
    assert "March 2026" in report.html
    assert report.sources["previous_period"] == {"start": "2026-02-01", "end": "2026-02-28"}
