"""
GitHub webhook deliveries -> changes, deployments and builds.

Pure functions read each event's payload into a report (or raise Ignored saying why nothing in it
applies, or ValidationError naming the field that is missing or malformed); `handle_delivery` is the
connectors.receive handler that maps the report's repository to its service and records it.

Read: `push` to the default branch and `pull_request` closed as merged into it (changes),
`deployment` and `deployment_status` (deployments), `check_suite` and `workflow_run` completed
(builds). Anything else, `ping` included, is kept and ignored.
"""
import datetime
import re
from typing import NamedTuple

from django.core.exceptions import ValidationError
from django.utils.dateparse import parse_datetime

from connectors.choices import EventSource
from connectors.models import ServiceLink
from connectors.services import Ignored, receive

from . import services
from .choices import BuildConclusion, BuildKind, DeploymentState


class ChangeReport(NamedTuple):
    repository: str
    sha: str
    pull_request: int | None
    title: str
    first_commit_at: datetime.datetime
    merged_at: datetime.datetime


class DeploymentReport(NamedTuple):
    repository: str
    deployment_id: int
    environment: str
    production: bool
    sha: str
    ref: str
    created_at: datetime.datetime


class StatusReport(NamedTuple):
    deployment: DeploymentReport
    status_id: int
    state: str
    at: datetime.datetime

    @property
    def repository(self):
        return self.deployment.repository


class BuildReport(NamedTuple):
    repository: str
    check_suite_id: int
    kind: str
    run_id: int
    name: str
    head_branch: str
    head_sha: str
    conclusion: str
    completed_at: datetime.datetime


# --- Reading payloads ----------------------------------------------------------------------------------

PATH_PART = re.compile(r"(\w+)|\[(\d+)\]")


def _value(payload, path):
    """
    The value at `path` of `payload` (keys joined by dots, list positions in brackets: "commits[0].timestamp");
    a ValidationError naming the path when it is missing.
    """
    value = payload
    for key, index in PATH_PART.findall(path):
        if isinstance(value, dict) and key:
            value = value.get(key)
        elif isinstance(value, list) and index and int(index) < len(value):
            value = value[int(index)]
        else:
            value = None
        if value is None:
            raise ValidationError({path: "Missing from the payload."})
    return value


def _text(payload, path):
    value = _value(payload, path)
    if not isinstance(value, str) or not value.strip():
        raise ValidationError({path: f"Expected a non-empty string, got {value!r}."})
    return value


def _integer(payload, path):
    value = _value(payload, path)
    if not isinstance(value, int) or isinstance(value, bool):
        raise ValidationError({path: f"Expected an integer, got {value!r}."})
    return value


def _moment(payload, path):
    """An aware datetime from an ISO 8601 string or, as push payloads give repository times, Unix seconds."""
    value = _value(payload, path)
    if isinstance(value, int) and not isinstance(value, bool):
        return datetime.datetime.fromtimestamp(value, tz=datetime.timezone.utc)
    moment = parse_datetime(value) if isinstance(value, str) else None
    if moment is None or moment.tzinfo is None:
        raise ValidationError({path: f"Expected an ISO 8601 date-time with a time zone, got {value!r}."})
    return moment


def _completed(payload, kind):
    action = payload.get("action")
    if action != "completed":
        raise Ignored(f"{kind} '{action}': only completed builds are read.")


def pull_request_change(payload):
    """A pull request closed as merged into the default branch, as the change its merge commit landed."""
    repository = _text(payload, "repository.full_name")
    number = _integer(payload, "pull_request.number")
    if payload.get("action") != "closed":
        raise Ignored(f"pull_request '{payload.get('action')}' of {repository}#{number}: only merges are changes.")
    if not payload["pull_request"].get("merged"):
        raise Ignored(f"{repository}#{number} was closed without being merged.")
    default_branch = _text(payload, "repository.default_branch")
    base = _text(payload, "pull_request.base.ref")
    if base != default_branch:
        raise Ignored(f"{repository}#{number} was merged into {base}, not the default branch {default_branch}.")
    return ChangeReport(
        repository=repository,
        sha=_text(payload, "pull_request.merge_commit_sha"),
        pull_request=number,
        title=str(payload["pull_request"].get("title") or "")[:500],
        # The payload has no commit times: the opening stands for the first commit until the push tells.
        first_commit_at=_moment(payload, "pull_request.created_at"),
        merged_at=_moment(payload, "pull_request.merged_at"),
    )


def push_change(payload):
    """A push of new commits to the default branch, as the change its head commit landed."""
    repository = _text(payload, "repository.full_name")
    ref = _text(payload, "ref")
    default_branch = _text(payload, "repository.default_branch")
    if ref != f"refs/heads/{default_branch}":
        raise Ignored(
            f"A push to {ref} of {repository}: only pushes to the default branch {default_branch} are changes."
        )
    commits = payload.get("commits") or []
    if payload.get("deleted") or not commits:
        raise Ignored(f"A push to {ref} of {repository} without new commits.")
    head = payload.get("head_commit") or {}
    return ChangeReport(
        repository=repository,
        sha=_text(payload, "after"),
        pull_request=None,
        title=str(head.get("message") or "").split("\n", 1)[0][:500],
        first_commit_at=min(_moment(payload, f"commits[{index}].timestamp") for index in range(len(commits))),
        merged_at=_moment(payload, "repository.pushed_at"),
    )


def deployment_report(payload):
    """A deployment, as a `deployment` event or any of its `deployment_status` events describes it."""
    environment = _text(payload, "deployment.environment")
    production = payload["deployment"].get("production_environment")
    return DeploymentReport(
        repository=_text(payload, "repository.full_name"),
        deployment_id=_integer(payload, "deployment.id"),
        environment=environment[:255],
        # GitHub's own default: an environment named "production" is the production one.
        production=bool(production) if production is not None else environment.lower() == "production",
        sha=_text(payload, "deployment.sha"),
        ref=str(payload["deployment"].get("ref") or "")[:255],
        created_at=_moment(payload, "deployment.created_at"),
    )


def deployment_status_report(payload):
    """A deployment's new status; `inactive` (a newer deployment replaced it) is not an outcome."""
    deployment = deployment_report(payload)
    state = _text(payload, "deployment_status.state")
    if state not in DeploymentState.values:
        raise Ignored(
            f"Deployment {deployment.deployment_id} of {deployment.repository} became '{state}', which is not an "
            "outcome: its state stays."
        )
    return StatusReport(
        deployment=deployment,
        status_id=_integer(payload, "deployment_status.id"),
        state=state,
        at=_moment(payload, "deployment_status.created_at"),
    )


def _conclusion(payload, path):
    conclusion = _text(payload, path)
    if conclusion not in BuildConclusion.values:
        expected = ", ".join(BuildConclusion.values)
        raise ValidationError({path: f"Unknown conclusion '{conclusion}'; expected one of {expected}."})
    return conclusion


def check_suite_build(payload):
    """A completed check suite of any app (GitHub Actions, another CI)."""
    _completed(payload, "check_suite")
    suite_id = _integer(payload, "check_suite.id")
    return BuildReport(
        repository=_text(payload, "repository.full_name"),
        check_suite_id=suite_id,
        kind=BuildKind.CHECK_SUITE,
        run_id=suite_id,
        name=str((payload["check_suite"].get("app") or {}).get("name") or "")[:255],
        head_branch=str(payload["check_suite"].get("head_branch") or "")[:255],
        head_sha=_text(payload, "check_suite.head_sha"),
        conclusion=_conclusion(payload, "check_suite.conclusion"),
        completed_at=_moment(payload, "check_suite.updated_at"),
    )


def workflow_run_build(payload):
    """A completed GitHub Actions workflow run, the build of its check suite."""
    _completed(payload, "workflow_run")
    return BuildReport(
        repository=_text(payload, "repository.full_name"),
        check_suite_id=_integer(payload, "workflow_run.check_suite_id"),
        kind=BuildKind.WORKFLOW_RUN,
        run_id=_integer(payload, "workflow_run.id"),
        name=str(payload["workflow_run"].get("name") or "")[:255],
        head_branch=str(payload["workflow_run"].get("head_branch") or "")[:255],
        head_sha=_text(payload, "workflow_run.head_sha"),
        conclusion=_conclusion(payload, "workflow_run.conclusion"),
        completed_at=_moment(payload, "workflow_run.updated_at"),
    )


# event type -> (read the payload, record the report, the label of the rows it makes)
EVENTS = {
    "pull_request": (pull_request_change, services.record_change, "delivery.change"),
    "push": (push_change, services.record_change, "delivery.change"),
    "deployment": (deployment_report, services.record_deployment, "delivery.deployment"),
    "deployment_status": (deployment_status_report, services.record_deployment_status, "delivery.deployment"),
    "check_suite": (check_suite_build, services.record_build, "delivery.buildrun"),
    "workflow_run": (workflow_run_build, services.record_build, "delivery.buildrun"),
}


# --- Receiving -----------------------------------------------------------------------------------------


def linked_service(integration, repository):
    """The service `repository` (owner/repo) is linked to in `integration`; Ignored naming it when none is."""
    try:
        link = ServiceLink.objects.select_related("service__domain").get(
            integration=integration, external_id=repository
        )
    except ServiceLink.DoesNotExist:
        raise Ignored(
            f"The repository {repository} is not linked to a service of the integration '{integration.name}'."
        ) from None
    return link.service


def repository_team(payload):
    """
    The team owning the payload's repository: the repository's custom property `team` (an organisation defines
    it once and sets it per repository; GitHub sends it with every event's repository), or "" without one.
    """
    properties = (payload.get("repository") or {}).get("custom_properties") or {}
    team = properties.get("team") if isinstance(properties, dict) else None
    # A multi-select property is a list: its first value is the owner.
    if isinstance(team, list):
        team = team[0] if team else None
    return team.strip()[:100] if isinstance(team, str) else ""


def handle_delivery(event):
    """The connectors.receive handler of a GitHub delivery: what it produced, {"delivery.<model>": [pk]}."""
    if event.event_type == "ping":
        raise Ignored(f"ping: webhook {event.payload.get('hook_id')} is set up ({event.payload.get('zen', '')}).")
    if event.event_type not in EVENTS:
        raise Ignored(f"GitHub event '{event.event_type}' is not read; read are {', '.join(EVENTS)}.")
    read, record, label = EVENTS[event.event_type]
    report = read(event.payload)
    row = record(
        report, service=linked_service(event.integration, report.repository), event=event, team=repository_team(event.payload)
    )
    return {label: [row.pk]}


def receive_delivery(integration, *, delivery_id, event_type, payload):
    """Keep and apply one delivery to `integration`: once per X-GitHub-Delivery (connectors.services.receive)."""
    return receive(
        EventSource.GITHUB,
        delivery_id,
        handle_delivery,
        event_type=event_type,
        payload=payload,
        integration=integration,
        company=integration.company,
    )
