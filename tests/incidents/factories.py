"""factory_boy factories of incidents' models: incidents, their timeline and surveys, alerts, patch scans, runbook runs."""
import datetime

import factory

from incidents import models as incident_models
from incidents.choices import AlertSeverity, IncidentStatus, Severity
from tests.companyos.factories import BASE_TIME
from tests.tenancy.factories import CompanyFactory, ServiceFactory


class IncidentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = incident_models.Incident

    service = factory.SubFactory(ServiceFactory)
    company = factory.LazyAttribute(lambda incident: incident.service.domain.company)
    external_id = factory.Sequence(lambda n: f"INC-{n}")
    title = "Disk full on web-1"
    severity = Severity.P2
    status = IncidentStatus.RESOLVED
    detected_at = BASE_TIME
    resolved_at = factory.LazyAttribute(lambda incident: incident.detected_at + datetime.timedelta(minutes=45))


class AlertFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = incident_models.Alert

    company = factory.SubFactory(CompanyFactory)
    asset = "web-1"
    signature = "disk_full"
    severity = AlertSeverity.HIGH
    issued_at = BASE_TIME
    source = "alertmanager"


class PhaseTransitionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = incident_models.PhaseTransition

    incident = factory.SubFactory(IncidentFactory)
    phase = "gather"
    entered_at = factory.LazyAttribute(lambda transition: transition.incident.detected_at + datetime.timedelta(minutes=5))


class MilestoneFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = incident_models.Milestone

    incident = factory.SubFactory(IncidentFactory)
    name = factory.Sequence(lambda n: f"Update {n}")
    committed_eta = factory.LazyAttribute(lambda milestone: milestone.incident.detected_at + datetime.timedelta(minutes=30))
    delivered_at = factory.LazyAttribute(lambda milestone: milestone.committed_eta)


class SurveyResponseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = incident_models.SurveyResponse

    incident = factory.SubFactory(IncidentFactory)
    respondent = factory.Sequence(lambda n: f"stakeholder{n}@example.com")
    score = 5
    submitted_at = factory.LazyAttribute(lambda response: response.incident.detected_at + datetime.timedelta(days=1))


class PatchComplianceSnapshotFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = incident_models.PatchComplianceSnapshot

    company = factory.SubFactory(CompanyFactory)
    scanned_at = BASE_TIME
    total_instances = 48
    compliant_instances = 42
    non_compliant_instances = factory.LazyAttribute(lambda scan: scan.total_instances - scan.compliant_instances)
    critical_patches_missing = 8


class RunbookExecutionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = incident_models.RunbookExecution

    company = factory.SubFactory(CompanyFactory)
    runbook_id = "SSM-DiskCleanup-001"
    execution_id = factory.Sequence(lambda n: f"exec-{n}")
    started_at = BASE_TIME
    success = True
