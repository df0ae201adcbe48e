"""
Software delivery as GitHub reports it: the changes that reach a repository's default branch, the
deployments of those repositories and their CI builds. Each row belongs to the service its repository is
linked to (connectors.ServiceLink) and keeps the webhook delivery that reported it; the DORA calculators
read them.
"""
from django.db import models

from .choices import BuildConclusion, BuildKind, DeploymentState


class ReportedByGitHub(models.Model):
    """What every row GitHub reported has: the service its repository is linked to, and the delivery it came in."""

    company = models.ForeignKey("tenancy.Company", on_delete=models.CASCADE, related_name="%(class)ss")
    service = models.ForeignKey("tenancy.Service", on_delete=models.CASCADE, related_name="%(class)ss")
    repository = models.CharField(max_length=200, help_text="owner/repo")
    team = models.CharField(
        max_length=100, blank=True, db_index=True,
        help_text="The team owning the repository when GitHub reported it: the repository's custom property 'team'.",
    )
    source_event = models.ForeignKey(
        "connectors.SourceEvent", on_delete=models.RESTRICT, related_name="+",
        help_text="The delivery that first reported it.",
    )

    class Meta:
        abstract = True


class Change(ReportedByGitHub):
    """
    A commit that reached the default branch: a merged pull request or a direct push. It is keyed by
    that commit (a pull request's merge commit is the head of the push its merge makes), so the
    `pull_request` and `push` deliveries of one merge are one change, each adding what it knows.
    """

    sha = models.CharField(max_length=40, help_text="The commit that landed on the default branch.")
    pull_request = models.PositiveIntegerField(null=True, blank=True, help_text="Its number, when merged from one.")
    title = models.CharField(max_length=500, blank=True)
    first_commit_at = models.DateTimeField(
        help_text="The earliest commit timestamp known for it, or the pull request's opening if that is earlier."
    )
    merged_at = models.DateTimeField(help_text="When it reached the default branch (merge or push).")

    class Meta:
        ordering = ["-merged_at"]
        constraints = [
            models.UniqueConstraint(fields=["company", "repository", "sha"], name="%(app_label)s_%(class)s_unique_sha"),
        ]
        indexes = [models.Index(fields=["company", "merged_at"])]

    def __str__(self):
        return f"{self.repository}#{self.pull_request}" if self.pull_request else f"{self.repository}@{self.sha[:7]}"


class Deployment(ReportedByGitHub):
    """A GitHub deployment of a repository to an environment, with the outcome of its latest status."""

    deployment_id = models.BigIntegerField(help_text="GitHub's id of the deployment.")
    environment = models.CharField(max_length=255)
    production = models.BooleanField(
        help_text="GitHub's production_environment flag; without it, whether the environment is named production."
    )
    sha = models.CharField(max_length=40)
    ref = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(help_text="When the deployment was created on GitHub.")
    state = models.CharField(max_length=16, choices=DeploymentState.choices, default=DeploymentState.PENDING)
    status_id = models.BigIntegerField(
        null=True, blank=True,
        help_text="GitHub's id of the status that set the state; an older status changes nothing.",
    )
    finished_at = models.DateTimeField(null=True, blank=True, help_text="When it succeeded, failed or errored.")

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["company", "repository", "deployment_id"], name="%(app_label)s_%(class)s_unique_deployment_id"
            ),
        ]
        indexes = [
            models.Index(fields=["company", "finished_at"]),
            models.Index(fields=["service", "finished_at"]),
            models.Index(fields=["service", "created_at"]),
        ]

    def __str__(self):
        return f"{self.repository} deployment {self.deployment_id} to {self.environment}"


class BuildRun(ReportedByGitHub):
    """
    A completed CI build: a check suite, or the workflow run of GitHub Actions that owns one. Keyed by the
    check suite, so a workflow run and its check suite reported by both events are one build.
    """

    check_suite_id = models.BigIntegerField(help_text="GitHub's id of the check suite.")
    kind = models.CharField(max_length=16, choices=BuildKind.choices)
    run_id = models.BigIntegerField(help_text="The workflow run's id, or the check suite's.")
    name = models.CharField(max_length=255, blank=True, help_text="The workflow, or the app that ran the checks.")
    head_branch = models.CharField(max_length=255, blank=True)
    head_sha = models.CharField(max_length=40)
    conclusion = models.CharField(max_length=16, choices=BuildConclusion.choices)
    completed_at = models.DateTimeField()

    class Meta:
        ordering = ["-completed_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["company", "repository", "check_suite_id"], name="%(app_label)s_%(class)s_unique_check_suite"
            ),
        ]
        indexes = [models.Index(fields=["company", "completed_at"])]

    def __str__(self):
        return f"{self.repository} {self.name or self.get_kind_display()} {self.run_id}: {self.conclusion}"
