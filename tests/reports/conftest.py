"""A company scored in this period and the one before, with an exec and an internal KPI, and the reports' roles."""
import datetime

import pytest

from kpis import roles
from reports import services
from scoring.services import compute_snapshots
from tests.helpers import member_of
from tests.kpis.factories import KpiDefinitionFactory, ObservationFactory
from tests.reports.helpers import at, this_period
from tests.tenancy.factories import ServiceFactory


@pytest.fixture
def scored(db):
    """
    comp-acme scored on a day of this period and of the previous one: MTTR (exec, reliability) went from 55 to 45 min,
    the internal pager load from 40 to 50, the exec vulnerability SLA (security) stayed at 95 %.
    """
    service = ServiceFactory(slug="gateway", name="Gateway", domain__slug="api", domain__name="API",
                             domain__company__slug="comp-acme", domain__company__name="Acme")
    company = service.domain.company
    mttr = KpiDefinitionFactory(slug="mttr", name="Mean Time to Resolve", weight=20)
    pager = KpiDefinitionFactory(slug="pager-load", name="Pager Load Index", visibility="internal", weight=10)
    vulns = KpiDefinitionFactory(slug="vuln-sla-compliance", name="Vulnerability SLA Compliance", units="percent",
                                 direction="higher", target=95, critical_threshold=80, dimension="security", weight=10)
    period = this_period()
    now_day, before_day = period.end - datetime.timedelta(days=2), period.previous().end - datetime.timedelta(days=2)
    scope = {"company": company, "domain": service.domain, "service": service}
    for day, mttr_value, pager_value in ((before_day, 55, 40), (now_day, 45, 50)):
        ObservationFactory(kpi=mttr, observed_at=at(day, 9), value=mttr_value, **scope)
        ObservationFactory(kpi=pager, observed_at=at(day, 9), value=pager_value, **scope)
        ObservationFactory(kpi=vulns, observed_at=at(day, 9), value=95, **scope)
        compute_snapshots(day)
    return {"company": company, "service": service, "mttr": mttr, "pager": pager, "vulns": vulns, "period": period,
            "day": now_day}


@pytest.fixture
def executive(db):
    return member_of(roles.EXECUTIVES, "erin", is_staff=False)


@pytest.fixture
def auditor(db):
    return member_of(roles.AUDITORS, "audrey", is_staff=False)


@pytest.fixture
def printed(monkeypatch):
    """
    Reports printed as a stand-in PDF, for the tests of what is stored and who reads it: Chromium's printing takes
    seconds and is the subject of the slow tests (test_pdf.py), which print for real.
    """
    pages = []

    def print_stand_in(html, *, blocked=None):
        pages.append(html)
        return b"%PDF-1.7 stand-in of " + str(len(pages)).encode()

    monkeypatch.setattr(services, "print_pdf", print_stand_in)
    return pages
