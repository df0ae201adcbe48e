from django.db import models


class EventKind(models.TextChoices):
    """What the portal announces (companyos.events), as people subscribe to it."""

    BREACH_OPENED = "breach.opened", "A breach opened"
    BREACH_CLOSED = "breach.closed", "A breach closed"
    PROPOSAL_SUBMITTED = "proposal.submitted", "A proposal awaits approval"
    PROPOSAL_DECIDED = "proposal.decided", "A proposal was decided"
    REVIEW_OVERDUE = "review.overdue", "My definitions' reviews are overdue"
    NIGHTLY_RUN_FAILED = "nightly.failed", "A nightly run failed"
    REPORT_READY = "report.ready", "A monthly report is ready"


class ChannelKind(models.TextChoices):
    EMAIL = "email", "E-mail"
    CHAT = "chat", "Chat webhook (Slack, Mattermost, Rocket.Chat)"
    WEBHOOK = "webhook", "Signed webhook"


class DeliveryState(models.TextChoices):
    PENDING = "pending", "Pending"
    SENDING = "sending", "Sending"
    FAILED = "failed", "Failed, will retry"
    SENT = "sent", "Sent"
    GAVE_UP = "gave_up", "Gave up"


# The events that concern one person alone (their own definitions' reviews): only that person's subscriptions get them.
PERSONAL_KINDS = {EventKind.REVIEW_OVERDUE}

# What a KPI owner's new chat or webhook channel is subscribed to by default, for the definitions they own
# (notifications.services.save_channel). Their e-mail needs none: the portal already e-mails an owner their breaches,
# decisions and overdue reviews (scoring.breaches, kpis.services).
OWNER_DEFAULT_KINDS = (
    EventKind.BREACH_OPENED, EventKind.BREACH_CLOSED, EventKind.PROPOSAL_SUBMITTED, EventKind.PROPOSAL_DECIDED,
    EventKind.REVIEW_OVERDUE,
)
