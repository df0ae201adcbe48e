"""The scored company the cockpit's pages and browser tests show."""
import datetime

import pytest

from scoring.services import compute_snapshots
from tests.cockpit.helpers import DAY, MORNING, WEEK_BEFORE, at
from tests.incidents.factories import AlertFactory, IncidentFactory, MilestoneFactory, PhaseTransitionFactory
from tests.kpis.factories import KpiDefinitionFactory, ObservationFactory
from tests.tenancy.factories import ServiceFactory


@pytest.fixture
def acme(db):
    """
    comp-acme (domain api, service gateway) scored on 2024-01-15 and a week before: an exec MTTR KPI computed
    from an incident with alerts, phases and a milestone, an internal KPI on the same incident, and noise reduction.
    """
    service = ServiceFactory(slug="gateway", name="Gateway", domain__slug="api", domain__name="API",
                             domain__company__slug="comp-acme", domain__company__name="Acme")
    company = service.domain.company
    mttr = KpiDefinitionFactory(slug="mttr", name="Mean Time to Resolve", weight=20)
    pager = KpiDefinitionFactory(slug="pager-load", name="Pager Load Index", visibility="internal", weight=10)
    noise = KpiDefinitionFactory(
        slug="noise-reduction", name="Alert Noise Reduction", units="percent", direction="higher", target=40,
        critical_threshold=20, dimension="none", weight=0,
    )
    incident = IncidentFactory(service=service, external_id="PD-000042", title="Disk full on web-1", detected_at=MORNING,
                               correlation_key="web-1|disk_full")
    for minute in (0, 2, 4, 6):
        AlertFactory(company=company, service=service, incident=incident, issued_at=MORNING + datetime.timedelta(minutes=minute))
    PhaseTransitionFactory(incident=incident, phase="gather")
    MilestoneFactory(incident=incident, name="initial-update")
    scope = {"company": company, "domain": service.domain, "service": service, "incident": incident}
    ObservationFactory(kpi=mttr, observed_at=incident.resolved_at, value=45, **scope)
    ObservationFactory(kpi=pager, observed_at=incident.resolved_at, value=50, **scope)
    ObservationFactory(kpi=mttr, company=company, domain=service.domain, service=service, observed_at=at(WEEK_BEFORE, 9), value=55)
    ObservationFactory(kpi=noise, company=company, observed_at=at(DAY, 0), value=75)
    compute_snapshots(WEEK_BEFORE)
    compute_snapshots(DAY)
    return {"company": company, "service": service, "incident": incident, "mttr": mttr, "pager": pager}
