"""
Notifications: where people hear of what the portal announces (companyos.events). A Channel is somewhere to send
(an e-mail address, a chat webhook, a signed webhook); a Subscription says who wants which kind of event on which
channel; an Event is one announcement, recorded once; a Delivery is one event sent to one subscription's channel,
created once and sent at most once successfully (its id travels with it, so a receiver can drop a repeat).
"""
import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from .addresses import check_destination
from .choices import ChannelKind, DeliveryState, EventKind

DEFAULT_RATE_PER_MINUTE = 30


class Channel(models.Model):
    """
    Somewhere to send notifications. A person's own channel has an owner; one without (a team's chat channel) is
    kept by administrators and used by group subscriptions. A signed webhook's secret is made by the portal,
    shown once, and kept out of the history.
    """

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="notification_channels",
        help_text="Whose channel it is; empty for a shared channel (a team's), used by group subscriptions.",
    )
    name = models.CharField(max_length=100)
    kind = models.CharField(max_length=8, choices=ChannelKind.choices)
    address = models.EmailField(blank=True, help_text="E-mail: the address; empty for the owner's own address.")
    url = models.URLField(max_length=2000, blank=True, help_text="Chat and signed webhooks: where to POST (http or https).")
    secret = models.CharField(max_length=128, blank=True, editable=False)
    secret_set_at = models.DateTimeField(null=True, blank=True, editable=False)
    rate_per_minute = models.PositiveIntegerField(
        default=DEFAULT_RATE_PER_MINUTE,
        validators=[MinValueValidator(1, "A channel sends at least one message a minute.")],
        help_text="At most this many messages a minute (a burst of up to this many, then one every 60/rate seconds).",
    )
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # The rate limit's token bucket (notifications.sending.take_token), written with update(), outside the history.
    bucket_tokens = models.FloatField(null=True, blank=True, editable=False)
    bucket_at = models.DateTimeField(null=True, blank=True, editable=False)

    history = HistoricalRecords(excluded_fields=["secret", "bucket_tokens", "bucket_at"])

    class Meta:
        ordering = ["name", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(rate_per_minute__gte=1), name="%(app_label)s_%(class)s_rate_positive",
                violation_error_message="A channel sends at least one message a minute.",
            ),
        ]

    def __str__(self):
        return f"{self.name} ({self.get_kind_display()})"

    def clean(self):
        if self.kind in (ChannelKind.CHAT, ChannelKind.WEBHOOK):
            if not self.url:
                raise ValidationError({"url": f"A {self.get_kind_display().lower()} channel needs the URL to POST to."})
            check_destination(self.url)
        if self.kind == ChannelKind.EMAIL and not self.address and self.owner_id is None:
            raise ValidationError({"address": "A shared e-mail channel needs an address (it has no owner to write to)."})

    @property
    def recipient_address(self):
        return self.address or (self.owner.email if self.owner_id else "")


class Subscription(models.Model):
    """
    A person (user) or a role (group) wants one kind of event on one channel. Events of a company reach a person
    only while they may read that company, and a group only through a subscription naming the company; events of
    internal KPIs reach only the roles that see internal KPIs (notifications.services.may_receive).
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="notification_subscriptions",
    )
    group = models.ForeignKey(
        "auth.Group", null=True, blank=True, on_delete=models.CASCADE, related_name="notification_subscriptions",
    )
    event = models.CharField(max_length=32, choices=EventKind.choices)
    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="subscriptions")
    company = models.ForeignKey(
        "tenancy.Company", null=True, blank=True, on_delete=models.CASCADE, related_name="+",
        help_text="Only this company's events. Empty: a person's every company; a group's portal-wide events only.",
    )
    owned_only = models.BooleanField(
        default=False, help_text="Only events of the definitions the person owns or the proposals they made.",
    )
    active = models.BooleanField(default=True, help_text="Off: nothing is sent.")
    is_default = models.BooleanField(default=False, editable=False, help_text="Made with a KPI owner's new channel.")
    created_at = models.DateTimeField(auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["event", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(user__isnull=False, group__isnull=True) | Q(user__isnull=True, group__isnull=False),
                name="%(app_label)s_%(class)s_user_or_group",
                violation_error_message="A subscription is a person's or a group's, not both.",
            ),
            models.UniqueConstraint(
                fields=["channel", "event"], condition=Q(is_default=True), name="%(app_label)s_%(class)s_one_default",
                violation_error_message="This channel already has the default subscription to this event.",
            ),
        ]

    def __str__(self):
        return f"{self.user or self.group}: {self.get_event_display()} -> {self.channel}"

    def clean(self):
        if self.group_id and self.owned_only:
            raise ValidationError({"owned_only": "Only a person's subscription is limited to what they own."})
        if self.channel_id and self.channel.owner_id is not None and self.channel.owner_id != self.user_id:
            raise ValidationError({"channel": "The channel is another person's."})


class Event(models.Model):
    """One announcement, recorded once by its key (a breach opening, a proposal, a failed task)."""

    kind = models.CharField(max_length=32, choices=EventKind.choices)
    key = models.CharField(max_length=200, unique=True, help_text="What makes it one event, e.g. breach.opened:42.")
    occurred_at = models.DateTimeField()
    company = models.ForeignKey("tenancy.Company", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    kpi = models.ForeignKey("kpis.KpiDefinition", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    internal = models.BooleanField(default=False, help_text="About internal KPIs: only the internal roles receive it.")
    concerns = models.JSONField(default=list, help_text="The ids of the people it is about (owner, author).")
    title = models.CharField(max_length=300)
    text = models.TextField()
    link = models.CharField(max_length=500, blank=True, help_text="The portal page to open, from PORTAL_URL.")
    data = models.JSONField(default=dict, help_text="The event's fields, as the signed webhook sends them.")

    class Meta:
        ordering = ["-occurred_at", "-pk"]

    def __str__(self):
        return self.title


class Delivery(models.Model):
    """One event sent to one subscription's channel: created once, sent at most once, every attempt counted."""

    delivery_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="deliveries")
    subscription = models.ForeignKey(Subscription, null=True, on_delete=models.SET_NULL, related_name="deliveries")
    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="deliveries")
    state = models.CharField(max_length=8, choices=DeliveryState.choices, default=DeliveryState.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    claimed_until = models.DateTimeField(null=True, blank=True, help_text="An attempt in progress holds it until then.")
    next_attempt_at = models.DateTimeField(null=True, blank=True, help_text="Held back by the channel's rate limit.")
    sent_at = models.DateTimeField(null=True, blank=True)
    response_status = models.PositiveIntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name_plural = "deliveries"
        constraints = [
            models.UniqueConstraint(
                fields=["event", "subscription"], name="%(app_label)s_%(class)s_once_per_subscription",
                violation_error_message="This event was already delivered to this subscription.",
            ),
        ]
        indexes = [models.Index(fields=["state", "next_attempt_at"])]

    def __str__(self):
        return f"{self.event} -> {self.channel} ({self.get_state_display()})"
