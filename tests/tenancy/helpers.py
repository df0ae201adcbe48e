"""
Two companies with data of every kind, and the people of the first: the world the isolation tests probe
(the fixture `world`). Everything
of the second company (comp-globex) carries "globex" in a slug, id or title, and what no request names (titles,
external ids, payloads, an observation's value) carries SECRET too, so a response that leaks any of it is caught by
looking for those words.
"""
from dataclasses import dataclass

from django.contrib.auth.models import Group
from django.utils import timezone

from incidents.models import Alert, Incident, Milestone, PhaseTransition, RunbookExecution, SurveyResponse
from kpis.models import Observation
from scoring.models import ScoreSnapshot
from tests.companyos.factories import BASE_TIME, UserFactory
from tests.connectors.factories import IntegrationFactory, UploadEventFactory
from tests.incidents.factories import AlertFactory, IncidentFactory, RunbookExecutionFactory
from tests.kpis.factories import ObservationFactory
from tests.security.factories import VulnerabilityFactory
from tests.tenancy.factories import CompanyFactory, DomainFactory, MembershipFactory, ServiceFactory

LEAK = "globex"
SECRET = "globex-private"
SECRET_VALUE = 4242.4242  # company B's observations' value
INGESTED_KPI = "abac-coverage"  # no calculator: data sources post its observations


@dataclass
class Tenant:
    company: object
    domain: object
    service: object
    incident: object
    execution: object
    event: object
    integration: object


def make_tenant(name, secret, value, kpis):
    """
    A company `comp-<name>` with a domain, service, incident, alert, observations, runbook run, score, payload,
    integration and vulnerability; `secret` is in every name and title no request names, `value` is the value of its
    observations of `kpis`.
    """
    company = CompanyFactory(slug=f"comp-{name}", name=name.title())
    domain = DomainFactory(company=company, slug=f"{name}-platform")
    service = ServiceFactory(domain=domain, slug=f"{name}-gateway")
    incident = IncidentFactory(service=service, external_id=f"{secret}-inc-1", title=f"{secret} gateway outage")
    AlertFactory(company=company, service=service, incident=incident, asset=f"{secret}-web-1", external_id=f"{secret}-alert-1")
    for kpi in kpis:
        ObservationFactory(kpi=kpi, company=company, domain=domain, service=service, incident=incident, value=value)
    execution = RunbookExecutionFactory(company=company, incident=incident, execution_id=f"{name}-exec-1", runbook_id=f"{secret}-runbook")
    ScoreSnapshot.objects.create(
        company=company, level="company", day=BASE_TIME.date(), composite=value / 100, band="healthy", computed_at=timezone.now()
    )
    event = UploadEventFactory(company=company, delivery_id=f"{secret}-upload-1", raw=f"month,customer_id\n2024-01,{secret}\n")
    integration = IntegrationFactory(company=company, name=f"{secret}-github")
    VulnerabilityFactory(service=service, title=f"{secret}: openssl denial of service")
    return Tenant(company, domain, service, incident, execution, event, integration)


@dataclass
class World:
    acme: Tenant
    globex: Tenant
    reader: object  # Auditors and Responders of comp-acme: reads everything a role may, of comp-acme
    executive: object  # an Executive of comp-acme
    feed: object  # a Data sources token user of comp-acme
    nobody: object  # a member of comp-acme in no group


def acme_user(acme, username, *groups):
    """A user of comp-acme alone, in `groups`."""
    user = UserFactory(username=username)
    user.groups.add(*(Group.objects.get_or_create(name=name)[0] for name in groups))
    MembershipFactory(user=user, company=acme.company)
    return user


def tenant_rows(company):
    """What a company holds that writes could change: its rows, its incidents' timelines, its runbook runs' incidents."""
    return {
        "incidents": list(Incident.objects.filter(company=company).values_list("pk", "external_id", "title", "status")),
        "alerts": Alert.objects.filter(company=company).count(),
        "timelines": [model.objects.filter(incident__company=company).count() for model in (PhaseTransition, Milestone, SurveyResponse)],
        "observations": Observation.objects.filter(company=company).count(),
        "executions": list(RunbookExecution.objects.filter(company=company).values_list("pk", "execution_id", "incident_id", "success")),
    }
