from django.db import models


class DeploymentState(models.TextChoices):
    """A deployment's latest state as GitHub's deployment statuses report it (`inactive` is not an outcome)."""

    PENDING = "pending", "Pending"
    QUEUED = "queued", "Queued"
    IN_PROGRESS = "in_progress", "In progress"
    SUCCESS = "success", "Success"
    FAILURE = "failure", "Failure"
    ERROR = "error", "Error"


# States after which a deployment is over: it reached its environment or did not.
FINISHED_STATES = (DeploymentState.SUCCESS, DeploymentState.FAILURE, DeploymentState.ERROR)


class BuildKind(models.TextChoices):
    CHECK_SUITE = "check_suite", "Check suite"
    WORKFLOW_RUN = "workflow_run", "Workflow run"


class BuildConclusion(models.TextChoices):
    """The conclusions GitHub gives a completed check suite or workflow run."""

    SUCCESS = "success", "Success"
    FAILURE = "failure", "Failure"
    TIMED_OUT = "timed_out", "Timed out"
    STARTUP_FAILURE = "startup_failure", "Startup failure"
    CANCELLED = "cancelled", "Cancelled"
    SKIPPED = "skipped", "Skipped"
    NEUTRAL = "neutral", "Neutral"
    STALE = "stale", "Stale"
    ACTION_REQUIRED = "action_required", "Action required"


# Conclusions that say whether the code built and passed; cancelled, skipped, neutral, stale and
# action-required runs did not test it (stopped, not run, superseded or waiting) and count neither way.
JUDGED_CONCLUSIONS = (
    BuildConclusion.SUCCESS,
    BuildConclusion.FAILURE,
    BuildConclusion.TIMED_OUT,
    BuildConclusion.STARTUP_FAILURE,
)
