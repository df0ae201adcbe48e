"""
Every way a report comes to exist: built for a company and period, stored once (HTML, PDF and what it was computed
from), then announced with reports.signals.report_ready after the transaction commits. Stored reports never change.
"""
from django.db import IntegrityError, transaction
from django.utils import timezone

from kpis.roles import sees_internal_kpis

from .choices import Audience, ReportKind
from .content import report_content
from .models import Report
from .rendering import print_pdf, render_html
from .signals import report_ready


def audience_of(user):
    """The audience of a report `user` asks for: every KPI for the internal roles, exec KPIs for everyone else."""
    return Audience.INTERNAL if sees_internal_kpis(user) else Audience.EXEC


def render_report(company, period, audience):
    """(html, pdf, sources) of a report, read first and printed after (see reports.rendering)."""
    context, sources = report_content(company, period, audience)
    context["generated_at"] = timezone.now()
    html = render_html(context)
    return html, print_pdf(html), sources


def _store(company, period, *, kind, audience, requested_by, html, pdf, sources):
    with transaction.atomic():
        report = Report.objects.create(
            company=company, period_start=period.start, period_end=period.end, kind=kind, audience=audience,
            created_at=timezone.now(), requested_by=requested_by, html=html, pdf=pdf, sources=sources,
        )
        transaction.on_commit(lambda: report_ready.send(sender=Report, report=report))
    return report


def monthly_report(company, month, *, audience=Audience.EXEC):
    """
    The company's report of `month` (a Period), built and stored if it has none yet: (report, created). Running it
    again for the same company and month returns the stored report and announces nothing.
    """
    existing = Report.objects.filter(company=company, kind=ReportKind.MONTHLY, period_start=month.start, audience=audience).first()
    if existing is not None:
        return existing, False
    html, pdf, sources = render_report(company, month, audience)
    try:
        report = _store(company, month, kind=ReportKind.MONTHLY, audience=audience, requested_by=None,
                        html=html, pdf=pdf, sources=sources)
    except IntegrityError:
        # Another run stored it meanwhile (the unique monthly constraint): that one stands.
        return Report.objects.get(company=company, kind=ReportKind.MONTHLY, period_start=month.start, audience=audience), False
    return report, True


def on_demand_report(company, period, *, requested_by):
    """A new report of `company` over `period` (up to a year) for `requested_by`, with the KPIs they may see."""
    audience = audience_of(requested_by)
    html, pdf, sources = render_report(company, period, audience)
    return _store(company, period, kind=ReportKind.ON_DEMAND, audience=audience, requested_by=requested_by,
                  html=html, pdf=pdf, sources=sources)
