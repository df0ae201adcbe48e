"""The period the reports' tests read, and the moments around it: the 30 days ending today, so approvals made now count."""
import datetime

from django.utils import timezone

from reports.choices import ReportKind
from reports.models import Report
from reports.periods import period_between


def today():
    return timezone.now().date()


def this_period():
    """The 30 days ending today; the period it is compared with is the 30 days before."""
    return period_between(today() - datetime.timedelta(days=29), today())


def at(day, hour):
    return datetime.datetime.combine(day, datetime.time(hour), tzinfo=datetime.timezone.utc)


def stored_report_of(company):
    """A stored report of `company` (its first, else a small one made here), whose page names the company."""
    return company.reports.first() or Report.objects.create(
        company=company, period_start=datetime.date(2024, 1, 1), period_end=datetime.date(2024, 1, 31),
        kind=ReportKind.ON_DEMAND, created_at=timezone.now(), html=f"<p>{company.slug} {company.name}</p>",
        pdf=f"%PDF-1.7 {company.slug}".encode(), sources={"company": company.slug},
    )
