"""
Sending one Delivery: claim it, take a token from its channel's rate limit, send, and mark it sent.

At most one success: the claim is one UPDATE that only a pending or failed delivery (or one whose attempt's claim
has lapsed, its worker lost) passes, and `sent` is final. A worker lost between the receiver's answer and the mark
may send it again after the claim lapses: the delivery id (X-CompanyOS-Delivery, and `delivery` in the body) is the
same, so a receiver drops the repeat.

Rate limit: a token bucket per channel, in the channel's row (so every worker shares it): up to `rate_per_minute`
messages at once, then one every 60/rate seconds. A delivery without a token waits, pending, until one is due.
"""
import dataclasses
import datetime
import json
import urllib.error
import urllib.request

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from connectors.signatures import sign_github

from .addresses import check_destination
from .choices import ChannelKind, DeliveryState
from .models import Channel, Delivery

# Longer than any attempt (the HTTP timeout, an SMTP exchange): a claim older than this is an attempt lost with its worker.
CLAIM_LEASE = datetime.timedelta(minutes=5)
# A receiver that cannot take a message is tried again 2, 4, 8 ... seconds later, at most 10 minutes apart, and given
# up after MAX_ATTEMPTS attempts (about an hour and a half).
MAX_ATTEMPTS = 15
BACKOFF_FACTOR = 2
BACKOFF_MAX = 600
SIGNATURE_HEADER = "X-CompanyOS-Signature"
DELIVERY_HEADER = "X-CompanyOS-Delivery"
EVENT_HEADER = "X-CompanyOS-Event"
USER_AGENT = "CompanyOS-Notifications/1"
# A chat attachment's colour by event.
COLOURS = {"breach.opened": "#d33", "breach.closed": "#2a2", "nightly.failed": "#d33"}
DEFAULT_COLOUR = "#888"


class RetryableFailure(Exception):
    """The receiver could not take it now (unreachable, timed out, 5xx, 429, a mail server's refusal): try again later."""


class PermanentFailure(Exception):
    """The receiver refused it for good (another 4xx, a destination no longer allowed): sending again would not help."""


@dataclasses.dataclass(frozen=True)
class Outcome:
    state: str
    wait_seconds: float = 0.0


def deliver(delivery_id):
    """
    Send the delivery unless it is sent, gave up or in another attempt. Returns an Outcome: its state, and the seconds
    to wait before the next attempt when it is held back by the rate limit (pending) or failed for now (failed).
    """
    now = timezone.now()
    claimable = Q(state__in=[DeliveryState.PENDING, DeliveryState.FAILED]) | Q(
        state=DeliveryState.SENDING, claimed_until__lt=now
    )
    claimed = Delivery.objects.filter(claimable, pk=delivery_id).update(
        state=DeliveryState.SENDING, claimed_until=now + CLAIM_LEASE, attempts=F("attempts") + 1
    )
    if not claimed:
        return Outcome(Delivery.objects.filter(pk=delivery_id).values_list("state", flat=True).first() or "missing")
    delivery = Delivery.objects.select_related("event__company", "event__kpi", "channel__owner").get(pk=delivery_id)
    wait = take_token(delivery.channel_id, now)
    if wait:
        Delivery.objects.filter(pk=delivery_id).update(
            state=DeliveryState.PENDING, claimed_until=None, attempts=F("attempts") - 1,
            next_attempt_at=now + datetime.timedelta(seconds=wait),
        )
        return Outcome(DeliveryState.PENDING, wait)
    try:
        status = send(delivery)
    except PermanentFailure as failure:
        _finish(delivery_id, DeliveryState.GAVE_UP, error=str(failure))
        return Outcome(DeliveryState.GAVE_UP)
    except RetryableFailure as failure:
        if delivery.attempts >= MAX_ATTEMPTS:
            _finish(delivery_id, DeliveryState.GAVE_UP, error=f"Gave up after {MAX_ATTEMPTS} attempts: {failure}")
            return Outcome(DeliveryState.GAVE_UP)
        wait = backoff_seconds(delivery.attempts)
        _finish(delivery_id, DeliveryState.FAILED, error=str(failure), next_attempt_at=now + datetime.timedelta(seconds=wait))
        return Outcome(DeliveryState.FAILED, wait)
    _finish(delivery_id, DeliveryState.SENT, status=status, sent_at=timezone.now())
    return Outcome(DeliveryState.SENT)


def backoff_seconds(attempts):
    """How long after its `attempts`-th failed attempt a delivery is tried again: 2, 4, 8 ... seconds, at most BACKOFF_MAX."""
    return min(BACKOFF_MAX, BACKOFF_FACTOR * 2 ** (attempts - 1))


def _finish(delivery_id, state, *, error="", status=None, sent_at=None, next_attempt_at=None):
    Delivery.objects.filter(pk=delivery_id, state=DeliveryState.SENDING).update(
        state=state, claimed_until=None, next_attempt_at=next_attempt_at, last_error=error[:2000], response_status=status,
        sent_at=sent_at,
    )


@transaction.atomic
def take_token(channel_id, now):
    """Take one token from the channel's bucket: 0 when taken, else the seconds until one is due (nothing taken)."""
    channel = Channel.objects.select_for_update().only("rate_per_minute", "bucket_tokens", "bucket_at").get(pk=channel_id)
    rate = channel.rate_per_minute
    if channel.bucket_at is None:
        tokens = float(rate)
    else:
        elapsed = max(0.0, (now - channel.bucket_at).total_seconds())
        tokens = min(float(rate), channel.bucket_tokens + elapsed * rate / 60)
    if tokens < 1:
        return (1 - tokens) * 60 / rate
    Channel.objects.filter(pk=channel_id).update(bucket_tokens=tokens - 1, bucket_at=now)
    return 0


def send(delivery):
    """Send `delivery` on its channel; the receiver's HTTP status (None for e-mail)."""
    channel = delivery.channel
    if channel.kind == ChannelKind.EMAIL:
        return _send_email(delivery)
    try:
        check_destination(channel.url)
    except ValidationError as refused:
        raise PermanentFailure("; ".join(refused.messages)) from None
    if channel.kind == ChannelKind.CHAT:
        body, headers = json.dumps(chat_payload(delivery.event)).encode(), {}
    else:
        body = json.dumps(webhook_payload(delivery), separators=(",", ":")).encode()
        headers = {
            SIGNATURE_HEADER: sign_github(channel.secret, body),  # the same "sha256=<hex>" scheme as GitHub's
            DELIVERY_HEADER: str(delivery.delivery_id),
            EVENT_HEADER: delivery.event.kind,
        }
    return _post(channel.url, body, headers)


def link_of(event):
    return f"{settings.PORTAL_URL}{event.link}" if event.link else ""


def message_text(event):
    """The plain text of an event, as e-mail and chat show it."""
    return "\n".join(part for part in (event.text, link_of(event)) if part)


def chat_payload(event):
    """What Slack, Mattermost and Rocket.Chat incoming webhooks all accept: `text`, and a legacy attachment with fields."""
    attachment = {"fallback": event.title, "color": COLOURS.get(event.kind, DEFAULT_COLOUR), "title": event.title, "text": event.text}
    if event.link:
        attachment["title_link"] = link_of(event)
    fields = [("Company", event.company.slug if event.company else ""), ("KPI", event.kpi.slug if event.kpi else "")]
    attachment["fields"] = [{"title": title, "value": value, "short": True} for title, value in fields if value]
    return {"text": f"{event.title}\n{message_text(event)}", "attachments": [attachment]}


def webhook_payload(delivery):
    """The signed webhook's JSON body."""
    event = delivery.event
    return {
        "delivery": str(delivery.delivery_id),
        "event": event.kind,
        "occurred_at": event.occurred_at.isoformat(),
        "company": event.company.slug if event.company else None,
        "kpi": event.kpi.slug if event.kpi else None,
        "title": event.title,
        "text": event.text,
        "link": link_of(event) or None,
        "data": event.data,
    }


def _send_email(delivery):
    address = delivery.channel.recipient_address
    if not address:
        raise PermanentFailure("The channel's owner has no e-mail address.")
    try:
        send_mail(
            subject=delivery.event.title, message=message_text(delivery.event), from_email=settings.DEFAULT_FROM_EMAIL,
            recipient_list=[address],
        )
    except OSError as failure:  # SMTP errors are OSErrors: the server may take it later
        raise RetryableFailure(f"The mail server refused it: {failure}") from None
    return None


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A redirect is an answer, not followed: it could lead to an address check_destination refuses."""

    def redirect_request(self, *args, **kwargs):
        return None


_opener = urllib.request.build_opener(_NoRedirects)


def _post(url, body, headers):
    request = urllib.request.Request(
        url, data=body, method="POST",
        headers={"Content-Type": "application/json", "User-Agent": USER_AGENT, **headers},
    )
    try:
        with _opener.open(request, timeout=settings.NOTIFICATION_WEBHOOK_TIMEOUT) as response:
            return response.status
    except urllib.error.HTTPError as answer:
        if answer.code >= 500 or answer.code in (408, 429):
            raise RetryableFailure(f"The receiver answered {answer.code}.") from None
        raise PermanentFailure(f"The receiver answered {answer.code}.") from None
    except (urllib.error.URLError, OSError) as failure:
        raise RetryableFailure(f"The receiver could not be reached: {getattr(failure, 'reason', failure)}") from None
