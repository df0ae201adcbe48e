"""factory_boy factories of delivery's models: changes, deployments and builds, and the GitHub deliveries they came from."""
import datetime

import factory

from tests.companyos.factories import BASE_TIME
from tests.tenancy.factories import CompanyFactory, ServiceFactory


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
