"""
Receiving a payload: keep it verbatim as a SourceEvent and apply it through a handler, all or nothing,
once. Every connector (webhooks, Prometheus queries, uploads) goes through `receive`.
"""
import hashlib
from typing import NamedTuple

from django.core.exceptions import ValidationError
from django.db import transaction

from companyos.change_control import save_with_history

from .choices import EventStatus, IntegrationKind
from .models import Integration, SourceEvent

# The largest file an upload may carry (a scanner report, a CSV export); bigger exports are split by period.
MAX_UPLOAD_BYTES = 50 * 2**20


def read_upload(stream):
    """The bytes of an uploaded file or request body (read up to one byte past the limit), refused when empty or too large."""
    content = stream.read(MAX_UPLOAD_BYTES + 1)
    if not content:
        raise ValidationError({"file": "The file is empty."})
    if len(content) > MAX_UPLOAD_BYTES:
        raise ValidationError({"file": f"The file is larger than {MAX_UPLOAD_BYTES // 2**20} MB; split it by period."})
    return content


class Ignored(Exception):
    """Raised by a handler: the payload is valid but nothing in it applies to us (the message says why)."""


class Received(NamedTuple):
    event: SourceEvent
    created: bool  # False: a redelivery of an event already processed or ignored, which changed nothing


def upload_delivery_id(content, *scope):
    """The delivery ID of an uploaded file: the SHA-256 of its bytes and its scope (e.g. a service slug)."""
    digest = hashlib.sha256(content)
    for part in scope:
        digest.update(b"\0" + str(part).encode())
    return digest.hexdigest()


def event_run(event):
    """The `run` of observations an event wrote directly, so they can be traced back to it."""
    return f"source-event:{event.pk}"


def _messages(error):
    if hasattr(error, "error_dict"):
        return "; ".join(f"{field}: {' '.join(messages)}" for field, messages in error.message_dict.items())
    return " ".join(error.messages)


def receive(source, delivery_id, handler, *, event_type="", payload=None, raw="", integration=None, company=None,
            user=None):
    """
    Keep the payload as the SourceEvent (source, delivery_id) and apply it with `handler(event)`, which
    returns what it produced ({"app.model": [pk, ...]} or counts) and may raise Ignored or ValidationError.

    A redelivery of a processed or ignored event changes nothing. A handler's ValidationError rolls back
    everything it wrote, keeps the event as failed with the message (so nothing received is lost and a
    redelivery tries again), and is raised to the caller.
    """
    fields = dict(event_type=event_type, payload=payload, raw=raw, integration=integration, company=company,
                  received_by=user)
    with transaction.atomic():
        event, created = SourceEvent.objects.select_for_update().get_or_create(
            source=source, delivery_id=delivery_id, defaults=fields
        )
        if not created and event.status != EventStatus.FAILED:
            return Received(event, False)
        for name, value in fields.items():
            setattr(event, name, value)
        try:
            with transaction.atomic():
                produced = handler(event)
        except Ignored as reason:
            event.status, event.detail, event.produced = EventStatus.IGNORED, str(reason), {}
        except ValidationError as error:
            event.status, event.detail, event.produced = EventStatus.FAILED, _messages(error), {}
            failure = error
        else:
            event.status, event.detail, event.produced = EventStatus.PROCESSED, "", produced or {}
        event.save()
    if event.status == EventStatus.FAILED:
        raise failure
    return Received(event, True)


def save_integration(integration, *, actor, reason, secret=None):
    """Create or change an integration, with who and why in its history; `secret` (when given) replaces its secret."""
    if secret:
        integration.set_secret(secret)
    return save_with_history(integration, actor=actor, reason=reason)


def add_prometheus(*, name, url, company=None, token="", actor, reason):
    """A new Prometheus integration (of `company`, or of every company when None), queried with `token` if given."""
    if Integration.objects.filter(kind=IntegrationKind.PROMETHEUS, name=name).exists():
        raise ValidationError({"name": f"A Prometheus integration is named '{name}' already."})
    integration = Integration(kind=IntegrationKind.PROMETHEUS, name=name, url=url, company=company)
    return save_integration(integration, actor=actor, reason=reason, secret=token)
