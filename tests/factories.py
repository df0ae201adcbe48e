"""factory_boy factories for every app's models. Definitions are created through the audited service."""
import datetime

import factory
from django.contrib.auth import get_user_model
from django.utils import timezone

from incidents import models as incident_models
from tenancy import models as tenancy_models
from incidents.choices import AlertSeverity, IncidentStatus, Severity
from kpis import services
from kpis.choices import Dimension, Direction, ObservationSource, Status, Units, Visibility
from kpis.models import KpiDefinition, Observation

BASE_TIME = datetime.datetime(2024, 1, 15, tzinfo=datetime.timezone.utc)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda user: f"{user.username}@example.com")
    password = factory.django.Password("correct-horse-battery")
    is_staff = True


class CompanyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = tenancy_models.Company
        django_get_or_create = ("slug",)

    slug = factory.Sequence(lambda n: f"comp-{n}")
    name = factory.LazyAttribute(lambda company: company.slug.replace("comp-", "").title())


class DomainFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = tenancy_models.Domain

    company = factory.SubFactory(CompanyFactory)
    slug = factory.Sequence(lambda n: f"domain-{n}")
    name = factory.LazyAttribute(lambda domain: domain.slug.title())


class ServiceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = tenancy_models.Service

    domain = factory.SubFactory(DomainFactory)
    slug = factory.Sequence(lambda n: f"service-{n}")
    name = factory.LazyAttribute(lambda service: service.slug.title())


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


class KpiDefinitionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = KpiDefinition
        django_get_or_create = ("slug",)

    slug = factory.Sequence(lambda n: f"kpi-{n}")
    name = factory.LazyAttribute(lambda kpi: kpi.slug.replace("-", " ").title())
    description = "Measures something that matters."
    formula = "avg(value)"
    units = Units.MINUTES
    direction = Direction.LOWER_IS_BETTER
    target = 30.0
    critical_threshold = 60.0
    visibility = Visibility.EXEC
    owner_role = "Ops Leader"
    dimension = Dimension.RELIABILITY
    weight = 1.0
    status = Status.ACTIVE

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        return services.create_definition(actor=None, reason="Created by a test factory", **kwargs)


class ObservationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Observation

    kpi = factory.SubFactory(KpiDefinitionFactory)
    company = factory.SubFactory(CompanyFactory)
    observed_at = BASE_TIME
    value = 42.0
    source = ObservationSource.API
    computed_at = factory.LazyFunction(timezone.now)


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


class IntegrationFactory(factory.django.DjangoModelFactory):
    """A webhook integration of one company with a known signing secret."""

    class Meta:
        model = "connectors.Integration"

    kind = "github"
    name = factory.Sequence(lambda n: f"integration-{n}")
    company = factory.SubFactory(CompanyFactory)
    secret = "It's a Secret to Everybody"


class ScanEventFactory(factory.django.DjangoModelFactory):
    """The received report a scan report or finding came from."""

    class Meta:
        model = "connectors.SourceEvent"

    source = "trivy"
    delivery_id = factory.Sequence(lambda n: f"scan-{n}")
    event_type = "scan-report"
    company = factory.SubFactory(CompanyFactory)
    payload = factory.LazyFunction(dict)


class ScanReportFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "security.ScanReport"

    service = factory.SubFactory(ServiceFactory)
    scanner = "trivy"
    scanned_at = BASE_TIME
    findings = 0
    source_event = factory.SubFactory(
        ScanEventFactory, source=factory.SelfAttribute("..scanner"), company=factory.SelfAttribute("..service.domain.company")
    )


class VulnerabilityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "security.Vulnerability"

    service = factory.SubFactory(ServiceFactory)
    scanner = "trivy"
    vulnerability_id = factory.Sequence(lambda n: f"CVE-2024-{1000 + n}")
    package = "openssl"
    installed_version = "3.1.4-r2"
    fixed_version = "3.1.4-r5"
    severity = "high"
    title = "openssl: denial of service"
    first_seen_at = BASE_TIME
    last_seen_at = factory.LazyAttribute(lambda vulnerability: vulnerability.fixed_at or vulnerability.first_seen_at)
    fixed_at = None
    last_seen_event = factory.SubFactory(ScanEventFactory, company=factory.SelfAttribute("..service.domain.company"))


class SecretFindingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "security.SecretFinding"

    service = factory.SubFactory(ServiceFactory)
    fingerprint = factory.Sequence(lambda n: f"{n:040x}:config/settings.py:aws-access-token:{n + 1}")
    rule_id = "aws-access-token"
    file = "config/settings.py"
    line = factory.Sequence(lambda n: n + 1)
    match = "AWS_ACCESS_KEY_ID = REDACTED"
    found_at = BASE_TIME
    detected_at = BASE_TIME
    resolved_at = None
    source_event = factory.SubFactory(
        ScanEventFactory, source="gitleaks", company=factory.SelfAttribute("..service.domain.company")
    )


class GitHubEventFactory(factory.django.DjangoModelFactory):
    """The GitHub webhook delivery a change, deployment or build came from."""

    class Meta:
        model = "connectors.SourceEvent"

    source = "github"
    delivery_id = factory.Sequence(lambda n: f"github-delivery-{n}")
    event_type = "deployment_status"
    company = factory.SubFactory(CompanyFactory)
    payload = factory.LazyFunction(dict)


class ChangeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "delivery.Change"

    service = factory.SubFactory(ServiceFactory)
    company = factory.LazyAttribute(lambda change: change.service.domain.company)
    repository = factory.LazyAttribute(lambda change: f"octo-org/{change.service.slug}")
    sha = factory.Sequence(lambda n: f"{n:040x}")
    pull_request = factory.Sequence(lambda n: n + 1)
    title = "Retry card captures on gateway timeouts"
    first_commit_at = BASE_TIME
    merged_at = factory.LazyAttribute(lambda change: change.first_commit_at + datetime.timedelta(hours=1))
    source_event = factory.SubFactory(GitHubEventFactory, event_type="pull_request", company=factory.SelfAttribute("..company"))


class DeploymentFactory(factory.django.DjangoModelFactory):
    """A successful production deployment unless told otherwise."""

    class Meta:
        model = "delivery.Deployment"

    service = factory.SubFactory(ServiceFactory)
    company = factory.LazyAttribute(lambda deployment: deployment.service.domain.company)
    repository = factory.LazyAttribute(lambda deployment: f"octo-org/{deployment.service.slug}")
    deployment_id = factory.Sequence(lambda n: 1_000_000 + n)
    environment = "production"
    production = True
    sha = factory.Sequence(lambda n: f"{n:040x}")
    ref = "main"
    created_at = BASE_TIME
    state = "success"
    finished_at = factory.LazyAttribute(
        lambda deployment: deployment.created_at + datetime.timedelta(minutes=10)
        if deployment.state in ("success", "failure", "error") else None
    )
    source_event = factory.SubFactory(GitHubEventFactory, company=factory.SelfAttribute("..company"))


class BuildRunFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "delivery.BuildRun"

    service = factory.SubFactory(ServiceFactory)
    company = factory.LazyAttribute(lambda build: build.service.domain.company)
    repository = factory.LazyAttribute(lambda build: f"octo-org/{build.service.slug}")
    check_suite_id = factory.Sequence(lambda n: 20_000_000 + n)
    kind = "workflow_run"
    run_id = factory.Sequence(lambda n: 7_000_000 + n)
    name = "CI"
    head_branch = "main"
    head_sha = factory.Sequence(lambda n: f"{n:040x}")
    conclusion = "success"
    completed_at = BASE_TIME
    source_event = factory.SubFactory(GitHubEventFactory, event_type="workflow_run", company=factory.SelfAttribute("..company"))


class UploadEventFactory(factory.django.DjangoModelFactory):
    """The uploaded CSV file imported rows came from."""

    class Meta:
        model = "connectors.SourceEvent"

    source = "billing-csv"
    delivery_id = factory.Sequence(lambda n: f"upload-{n}")
    event_type = "billing"
    company = factory.SubFactory(CompanyFactory)
    raw = "month,customer_id\n"


class RevenueRecordFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "finance.RevenueRecord"

    company = factory.SubFactory(CompanyFactory)
    customer_id = factory.Sequence(lambda n: f"cus_{n:06d}")
    month = datetime.date(2024, 1, 1)
    recurring_revenue = 1000
    new = 0
    expansion = 0
    contraction = 0
    churn = 0
    source_event = factory.SubFactory(UploadEventFactory, company=factory.SelfAttribute("..company"))


class CloudCostLineItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "finance.CloudCostLineItem"

    company = factory.SubFactory(CompanyFactory)
    line_item_id = factory.Sequence(lambda n: f"{n:052x}")
    usage_start = BASE_TIME
    usage_end = factory.LazyAttribute(lambda item: item.usage_start + datetime.timedelta(days=1))
    time_interval = factory.LazyAttribute(lambda item: f"{item.usage_start:%Y-%m-%dT%H:%M:%SZ}/{item.usage_end:%Y-%m-%dT%H:%M:%SZ}")
    billing_period_start = factory.LazyAttribute(lambda item: item.usage_start.replace(day=1, hour=0, minute=0))
    usage_account_id = "123456789012"
    line_item_type = "Usage"
    product_code = "AmazonEC2"
    product_name = "Amazon Elastic Compute Cloud"
    usage_type = "USW2-BoxUsage:m5.xlarge"
    unblended_cost = 100
    currency = "USD"
    source_event = factory.SubFactory(
        UploadEventFactory, source="cloud-cost-csv", event_type="cloud-cost", company=factory.SelfAttribute("..company")
    )


class ActiveUserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "product.ActiveUser"

    company = factory.SubFactory(CompanyFactory)
    day = BASE_TIME.date()
    tenant_id = "tnt_northwind"
    user_id = factory.Sequence(lambda n: f"usr_{n:06d}")
    source_event = factory.SubFactory(
        UploadEventFactory, source="active-users-csv", event_type="active-users", company=factory.SelfAttribute("..company")
    )


class FeatureFlagEvaluationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "product.FeatureFlagEvaluation"

    company = factory.SubFactory(CompanyFactory)
    day = BASE_TIME.date()
    flag_key = "new-checkout-flow"
    variation = "true"
    enabled = True
    evaluations = factory.LazyAttribute(lambda evaluation: evaluation.contexts * 5)
    contexts = 100
    source_event = factory.SubFactory(
        UploadEventFactory, source="feature-flags-csv", event_type="feature-flags", company=factory.SelfAttribute("..company")
    )
