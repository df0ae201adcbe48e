"""
Recording what GitHub reported (delivery.github reads the payloads). Each row is keyed by GitHub's own id
within its company and repository, and found again by a later report: deliveries may come in any order
and more than one event may describe the same thing, so each write merges what it knows into the row.
"""
from .choices import FINISHED_STATES, BuildKind
from .models import BuildRun, Change, Deployment


def _locked_get_or_create(model, *, service, event, keys, defaults, team):
    # The row lock serialises two deliveries about the same row; get_or_create survives their race to insert.
    row, created = model.objects.select_for_update().get_or_create(
        company_id=service.domain.company_id, **keys,
        defaults={"service": service, "source_event": event, "team": team, **defaults},
    )
    # The first report naming the repository's team sets it; a row keeps the team that owned it then.
    if not created and team and not row.team:
        row.team = team
        row.save(update_fields=["team"])
    return row, created


def record_change(report, *, service, event, team=""):
    """
    The change a ChangeReport describes. The pull request and the push of one merge name the same commit:
    the change keeps the pull request's number and title, and the earliest start and landing either knows.
    """
    change, created = _locked_get_or_create(
        Change, service=service, event=event, team=team, keys={"repository": report.repository, "sha": report.sha},
        defaults={
            "pull_request": report.pull_request,
            "title": report.title,
            "first_commit_at": report.first_commit_at,
            "merged_at": report.merged_at,
        },
    )
    if not created:
        if report.pull_request is not None:
            change.pull_request, change.title = report.pull_request, report.title
        change.first_commit_at = min(change.first_commit_at, report.first_commit_at)
        change.merged_at = min(change.merged_at, report.merged_at)
        change.save()
    return change


def _deployment_fields(report):
    return {
        "environment": report.environment,
        "production": report.production,
        "sha": report.sha,
        "ref": report.ref,
        "created_at": report.created_at,
    }


def record_deployment(report, *, service, event, team=""):
    """The deployment a DeploymentReport describes (created pending until a status says otherwise)."""
    deployment, _ = _locked_get_or_create(
        Deployment, service=service, event=event, team=team,
        keys={"repository": report.repository, "deployment_id": report.deployment_id},
        defaults=_deployment_fields(report),
    )
    return deployment


def record_deployment_status(report, *, service, event, team=""):
    """
    The deployment of a StatusReport with its state. Statuses may arrive out of order: only a status newer
    than the one the row has (GitHub's ids grow) changes it. Success, failure and error finish it.
    """
    deployment, _ = _locked_get_or_create(
        Deployment, service=service, event=event, team=team,
        keys={"repository": report.repository, "deployment_id": report.deployment.deployment_id},
        defaults=_deployment_fields(report.deployment),
    )
    if deployment.status_id is None or report.status_id > deployment.status_id:
        deployment.state, deployment.status_id = report.state, report.status_id
        deployment.finished_at = report.at if report.state in FINISHED_STATES else None
        deployment.save()
    return deployment


def record_build(report, *, service, event, team=""):
    """
    The build of a BuildReport. Its check suite and workflow run are one build, named after the workflow;
    a later completion (a re-run) replaces the conclusion.
    """
    fields = {
        "kind": report.kind,
        "run_id": report.run_id,
        "name": report.name,
        "head_branch": report.head_branch,
        "head_sha": report.head_sha,
        "conclusion": report.conclusion,
        "completed_at": report.completed_at,
    }
    build, created = _locked_get_or_create(
        BuildRun, service=service, event=event, team=team,
        keys={"repository": report.repository, "check_suite_id": report.check_suite_id}, defaults=fields,
    )
    if not created:
        if report.completed_at >= build.completed_at:
            build.conclusion, build.completed_at = report.conclusion, report.completed_at
        if report.kind == BuildKind.WORKFLOW_RUN:
            build.kind, build.run_id, build.name = report.kind, report.run_id, report.name
        build.save()
    return build
