"""
Demo GitHub history: one GitHub organisation per company with a repository per service, linked to it and
owned by a team (the repository custom property `team`), and on each day merged pull requests, pushes to main, CI runs (as workflow runs or check suites) and
deployments to production with their statuses (a few failing). Every one is a webhook payload
in GitHub's format, delivered through delivery.github.receive_delivery, the webhook's own path.

Every value comes from random.Random seeded with the seed, "github" and the company, and every time from
the period, so the same arguments give the same payloads (a second run is all redeliveries). Events that
would occur after `end` are not delivered.
"""
import datetime
import math
import random
import uuid
from collections import Counter

from django.db import transaction

from connectors.choices import IntegrationKind
from connectors.models import Integration, ServiceLink
from connectors.services import save_integration
from delivery import github
from tenancy.models import Service

from ..registry import demo_source

# Production deploys per service on a weekday and a weekend day (inclusive ranges), between 08:00 and 19:00 UTC.
DEPLOYS_PER_WEEKDAY, DEPLOYS_PER_WEEKEND_DAY = (1, 2), (0, 1)
WORKING_HOURS = (8, 19)
CHANGES_PER_DEPLOY = (1, 2)
# Hours from a change's first commit to its merge (log-normal).
CODING_MEDIAN_HOURS, CODING_SIGMA = 2.0, 0.9
DIRECT_PUSH_SHARE = 0.1  # changes pushed to main without a pull request
MERGE_PUSH_REPORTED_SHARE = 0.25  # merges whose push to main is delivered as well as the pull request
CHECK_SUITE_REPORTED_SHARE = 0.3  # CI runs delivered as their check suite rather than their workflow run
BUILD_CONCLUSIONS = {"success": 93, "failure": 4, "timed_out": 1, "cancelled": 2}
CI_MINUTES = (4, 12)
DEPLOY_MINUTES = (3, 15)
DEPLOY_FAILURE_SHARE = 0.06
IN_PROGRESS_REPORTED_SHARE = 0.1
DEVELOPERS = ["maya-okafor", "lin-zhao", "tomas-novak", "aisha-bello", "erik-sund", "priya-raman"]
CHANGE_TITLES = [
    "Retry {thing} on timeouts", "Cache {thing} lookups", "Validate {thing} input", "Log {thing} failures with context",
    "Paginate {thing} listing", "Drop the legacy {thing} path", "Speed up {thing} serialisation",
    "Fix {thing} race on shutdown",
]
API = "https://api.github.com"
WEB = "https://github.com"
WORKFLOW_PATH = ".github/workflows/ci.yml"


def _iso(moment):
    return moment.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _sha(rng):
    return f"{rng.getrandbits(160):040x}"


def _user(login, user_id, kind="User"):
    return {
        "login": login, "id": user_id, "node_id": f"U_{user_id}", "type": kind, "site_admin": False,
        "avatar_url": f"https://avatars.githubusercontent.com/u/{user_id}?v=4", "url": f"{API}/users/{login}",
        "html_url": f"{WEB}/{login}",
    }


def _git_person(user):
    return {"name": user["login"], "email": f"{user['login']}@example.com", "username": user["login"]}


# The team owning each service's repository, set as the organisation's repository custom property "team".
TEAMS = {"neo4j": "data", "ingest": "data", "gateway": "platform", "auth": "identity", "web": "web", "apollo-client": "web"}


class _Organisation:
    """One company's GitHub organisation: its integration, repositories (one per service) and GitHub's id counter."""

    def __init__(self, company, rng):
        self.rng = rng
        self.login = company.slug.removeprefix("comp-")
        name, secret = f"GitHub {company.slug}", f"{rng.getrandbits(256):064x}"
        existing = Integration.objects.filter(kind=IntegrationKind.GITHUB, name=name).first()
        self.integration = existing or save_integration(
            Integration(kind=IntegrationKind.GITHUB, name=name, company=company),
            actor=None, reason="Demo data", secret=secret,
        )
        self.owner = _user(self.login, rng.randint(10_000_000, 99_999_999), "Organization")
        self.bot = _user("github-actions[bot]", 41898282, "Bot")
        self.developers = [_user(login, rng.randint(1_000_000, 9_999_999)) for login in DEVELOPERS]
        self.repositories = []
        for service in Service.objects.filter(domain__company=company).order_by("pk"):
            full_name = f"{self.login}/{service.slug}"
            ServiceLink.objects.get_or_create(
                integration=self.integration, external_id=full_name, defaults={"service": service}
            )
            self.repositories.append({
                "id": rng.randint(100_000_000, 999_999_999), "name": service.slug, "full_name": full_name,
                "pull_requests": rng.randint(100, 900), "head": _sha(rng), "team": TEAMS.get(service.slug, "platform"),
            })
        self.last_id = rng.randint(1_000_000_000, 2_000_000_000)

    def new_id(self):
        """A new id for a pull request, deployment, status, run or check suite: GitHub's ids grow."""
        self.last_id += self.rng.randint(1, 5000)
        return self.last_id

    def repository(self, repo, pushed_at=None):
        """The repository object of a payload; a push payload's gives its times as Unix seconds."""
        url = f"{API}/repos/{repo['full_name']}"
        body = {
            "id": repo["id"], "node_id": f"R_{repo['id']}", "name": repo["name"], "full_name": repo["full_name"],
            "private": True, "owner": self.owner, "html_url": f"{WEB}/{repo['full_name']}", "fork": False,
            "url": url, "deployments_url": f"{url}/deployments", "created_at": "2022-06-01T09:00:00Z",
            "updated_at": "2024-01-02T10:00:00Z", "pushed_at": "2024-01-02T10:00:00Z", "visibility": "private",
            "default_branch": "main", "custom_properties": {"team": repo["team"]},
        }
        if pushed_at:
            body.update(created_at=1654074000, pushed_at=int(pushed_at.timestamp()), master_branch="main")
        return body

    def envelope(self, repo, sender, **fields):
        """An event payload: its own fields, then the repository, organisation and sender every event carries."""
        organisation = {"login": self.login, "id": self.owner["id"]}
        return {**fields, "repository": self.repository(repo), "organization": organisation, "sender": sender}


def _change_events(org, repo, rng, merged_at):
    """
    The events of one change reaching main at `merged_at`: its pull request's merge (or a direct push), the
    push of the merge (sometimes delivered too) and its CI run. Returns them as (time, event type, payload)
    with the change's sha.
    """
    developer = rng.choice(org.developers)
    first_commit_at = merged_at - datetime.timedelta(hours=CODING_MEDIAN_HOURS * math.exp(rng.gauss(0, CODING_SIGMA)))
    title = rng.choice(CHANGE_TITLES).format(thing=repo["name"].replace("-", " "))
    sha, before = _sha(rng), repo["head"]
    repo["head"] = sha
    direct = rng.random() < DIRECT_PUSH_SHARE
    commits, moment = [], first_commit_at
    for _ in range(rng.randint(1, 4)):
        commit_sha = _sha(rng)
        commits.append({
            "id": commit_sha, "tree_id": _sha(rng), "distinct": direct, "message": title, "timestamp": _iso(moment),
            "url": f"{WEB}/{repo['full_name']}/commit/{commit_sha}", "author": _git_person(developer),
            "committer": _git_person(developer), "added": [], "removed": [], "modified": ["src/main.py"],
        })
        moment += (merged_at - moment) * rng.uniform(0.1, 0.6)
    events = []
    if direct:
        commits[-1].update(id=sha, url=f"{WEB}/{repo['full_name']}/commit/{sha}")
    else:
        repo["pull_requests"] += 1
        number = repo["pull_requests"]
        opened_at = first_commit_at + (merged_at - first_commit_at) * rng.uniform(0.05, 0.5)
        branch = f"{developer['login']}/change-{number}"
        commits.append({
            **commits[-1], "id": sha, "url": f"{WEB}/{repo['full_name']}/commit/{sha}", "distinct": True,
            "message": f"Merge pull request #{number} from {org.login}/{branch}\n\n{title}",
            "timestamp": _iso(merged_at),
        })
        pull_request = {
            "url": f"{API}/repos/{repo['full_name']}/pulls/{number}", "id": org.new_id(), "number": number,
            "html_url": f"{WEB}/{repo['full_name']}/pull/{number}", "state": "closed", "locked": False,
            "title": title, "user": developer, "body": "", "created_at": _iso(opened_at),
            "updated_at": _iso(merged_at), "closed_at": _iso(merged_at), "merged_at": _iso(merged_at),
            "merge_commit_sha": sha, "draft": False,
            "head": {"label": f"{org.login}:{branch}", "ref": branch, "sha": commits[-2]["id"]},
            "base": {"label": f"{org.login}:main", "ref": "main", "sha": before},
            "merged": True, "merged_by": developer, "commits": len(commits) - 1, "additions": rng.randint(5, 400),
            "deletions": rng.randint(0, 150), "changed_files": rng.randint(1, 12),
        }
        events.append((merged_at, "pull_request", org.envelope(
            repo, developer, action="closed", number=number, pull_request=pull_request
        )))
    if direct or rng.random() < MERGE_PUSH_REPORTED_SHARE:
        events.append((merged_at, "push", {
            "ref": "refs/heads/main", "before": before, "after": sha, "created": False, "deleted": False,
            "forced": False, "base_ref": None,
            "compare": f"{WEB}/{repo['full_name']}/compare/{before[:12]}...{sha[:12]}",
            "commits": commits, "head_commit": commits[-1], "repository": org.repository(repo, pushed_at=merged_at),
            "pusher": {"name": developer["login"], "email": f"{developer['login']}@example.com"},
            "organization": {"login": org.login, "id": org.owner["id"]}, "sender": developer,
        }))
    events.append(_ci_run(org, repo, rng, developer, sha, merged_at))
    return events, sha


def _ci_run(org, repo, rng, actor, sha, started_at):
    """The completed CI workflow run of the push of `sha` to main, sometimes delivered as its check suite instead."""
    completed_at = started_at + datetime.timedelta(minutes=rng.uniform(*CI_MINUTES))
    conclusion = rng.choices(list(BUILD_CONCLUSIONS), weights=list(BUILD_CONCLUSIONS.values()))[0]
    run_id, suite_id = org.new_id(), org.new_id()
    if rng.random() < CHECK_SUITE_REPORTED_SHARE:
        return (completed_at, "check_suite", org.envelope(repo, actor, action="completed", check_suite={
            "id": suite_id, "head_branch": "main", "head_sha": sha, "status": "completed", "conclusion": conclusion,
            "url": f"{API}/repos/{repo['full_name']}/check-suites/{suite_id}", "pull_requests": [],
            "app": {"id": 15368, "slug": "github-actions", "name": "GitHub Actions"},
            "created_at": _iso(started_at), "updated_at": _iso(completed_at),
            "latest_check_runs_count": rng.randint(1, 6),
        }))
    workflow = {"id": repo["id"] % 100_000_000, "name": "CI", "path": WORKFLOW_PATH, "state": "active"}
    run_url = f"{API}/repos/{repo['full_name']}/actions/runs/{run_id}"
    run = {
        "id": run_id, "name": "CI", "head_branch": "main", "head_sha": sha, "path": WORKFLOW_PATH,
        "run_number": run_id % 10_000, "event": "push", "status": "completed", "conclusion": conclusion,
        "workflow_id": workflow["id"], "check_suite_id": suite_id, "url": run_url,
        "html_url": f"{WEB}/{repo['full_name']}/actions/runs/{run_id}", "pull_requests": [],
        "created_at": _iso(started_at), "updated_at": _iso(completed_at), "run_attempt": 1,
        "run_started_at": _iso(started_at), "actor": actor, "triggering_actor": actor,
    }
    payload = org.envelope(repo, actor, action="completed", workflow=workflow, workflow_run=run)
    return completed_at, "workflow_run", payload


def _deploy_events(org, repo, rng, sha, created_at):
    """The deployment of `sha` to production and its statuses (sometimes in progress, then success or failure)."""
    deployment_id = org.new_id()
    url = f"{API}/repos/{repo['full_name']}/deployments/{deployment_id}"
    deployment = {
        "url": url, "id": deployment_id, "statuses_url": f"{url}/statuses", "task": "deploy",
        "original_environment": "production", "environment": "production", "description": "Deploy main to production",
        "created_at": _iso(created_at), "updated_at": _iso(created_at), "creator": org.bot, "sha": sha, "ref": "main",
        "payload": {}, "transient_environment": False, "production_environment": True,
    }
    events = [(created_at, "deployment", org.envelope(repo, org.bot, action="created", deployment=deployment))]
    finished_at = created_at + datetime.timedelta(minutes=rng.uniform(*DEPLOY_MINUTES))
    states = []
    if rng.random() < IN_PROGRESS_REPORTED_SHARE:
        states.append((created_at + datetime.timedelta(seconds=30), "in_progress"))
    states.append((finished_at, "failure" if rng.random() < DEPLOY_FAILURE_SHARE else "success"))
    for moment, state in states:
        status_id = org.new_id()
        status = {
            "url": f"{url}/statuses/{status_id}", "id": status_id, "state": state, "creator": org.bot,
            "description": f"Deployment {state.replace('_', ' ')}", "environment": "production", "target_url": "",
            "created_at": _iso(moment), "updated_at": _iso(moment), "deployment_url": url,
            "repository_url": f"{API}/repos/{repo['full_name']}",
        }
        events.append((moment, "deployment_status", org.envelope(
            repo, org.bot, action="created", deployment=deployment, deployment_status=status
        )))
    return events


def _day_events(org, repo, rng, day):
    """One repository's events on `day`: deploys over working hours, each shipping the changes merged since the last."""
    weekend = day.weekday() >= 5
    deploys = rng.randint(*(DEPLOYS_PER_WEEKEND_DAY if weekend else DEPLOYS_PER_WEEKDAY))
    opening, closing = (day + datetime.timedelta(hours=hour) for hour in WORKING_HOURS)
    events, previous = [], opening
    for deploy_at in sorted(opening + (closing - opening) * rng.random() for _ in range(deploys)):
        for _ in range(rng.randint(*CHANGES_PER_DEPLOY)):
            merged_at = previous + (deploy_at - previous) * rng.uniform(0.05, 0.9)
            change_events, sha = _change_events(org, repo, rng, merged_at.replace(microsecond=0))
            events.extend(change_events)
        events.extend(_deploy_events(org, repo, rng, sha, deploy_at.replace(microsecond=0)))
        previous = deploy_at
    return events


@transaction.atomic  # one commit for all, not one per delivery (SQLite syncs its file at each)
def _deliver(org, rng, events, counts):
    """Deliver `events` as the webhook would, counting them by status; the pks of the rows they produced by label."""
    produced = {"delivery.change": set(), "delivery.deployment": set(), "delivery.buildrun": set()}
    for _, event_type, payload in events:
        delivery_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        received = github.receive_delivery(
            org.integration, delivery_id=delivery_id, event_type=event_type, payload=payload
        )
        counts[f"github events {received.event.status}"] += 1
        for label, pks in received.event.produced.items():
            produced[label].update(pks)
    return produced


@demo_source("github", order=30)
def seed_github(companies, start, end, seed):
    """
    Deliver the demo's GitHub webhooks for `companies` over [start, end). Returns counts: integrations,
    linked repositories, events delivered by status, and the changes, deployments and builds they made.
    """
    counts = Counter()
    for company in companies:
        rng = random.Random(f"{seed}:github:{company.slug}")
        org = _Organisation(company, rng)
        counts["github integrations"] += 1
        counts["github repositories linked"] += len(org.repositories)
        events = []
        day = start.replace(hour=0, minute=0, second=0, microsecond=0)
        while day < end:
            for repo in org.repositories:
                events.extend(_day_events(org, repo, rng, day))
            day += datetime.timedelta(days=1)
        events.sort(key=lambda event: event[0])
        produced = _deliver(org, rng, [event for event in events if start <= event[0] < end], counts)
        counts["changes"] += len(produced["delivery.change"])
        counts["deployments"] += len(produced["delivery.deployment"])
        counts["builds"] += len(produced["delivery.buildrun"])
    return dict(counts)
