"""
Every write of notifications: channels and subscriptions (by their owner in the cockpit or the API, or by an
administrator), and the recording of an event with its deliveries, which are queued once the event commits.

Who receives an event (may_receive): a subscription of its kind, on an active channel, whose person may read the
event's company (a member of it, or of All companies) and, for an internal KPI's event, sees internal KPIs; a
group's subscription receives a company's events only when it names that company, and internal ones only when the
group is an internal role. An event about particular people (a definition's owner, a proposal's author) reaches
"only mine" subscriptions of those people; an overdue review reaches its owner alone.

A KPI owner is subscribed by default: a chat or signed-webhook channel they add is subscribed to every event of the
definitions they own (OWNER_DEFAULT_KINDS, "only mine"); they may turn each off or delete it. Their e-mail needs no
subscription: the portal already e-mails an owner their breaches, decisions and overdue reviews.
"""
import secrets

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from companyos.change_control import save_with_history
from kpis.roles import SEES_INTERNAL_KPIS, sees_internal_kpis
from tenancy.access import sees_all_companies
from tenancy.models import Membership
from tenancy.roles import KPI_OWNERS, READING_ROLES, group_names, reads_company_data

from .choices import OWNER_DEFAULT_KINDS, PERSONAL_KINDS, ChannelKind, DeliveryState
from .models import Delivery, Event, Subscription
from .tasks import deliver_notification

SECRET_BYTES = 32


def new_secret():
    return secrets.token_hex(SECRET_BYTES)


@transaction.atomic
def save_channel(channel, *, actor, reason, new_secret_wanted=False):
    """
    Validate and save `channel` (its URL checked by addresses.check_destination). A new signed webhook gets a secret,
    and so does one asked to rotate it; the caller shows `channel.secret` to its owner once. A KPI owner's new chat or
    webhook channel gets the default subscriptions. Returns the channel.
    """
    if channel.kind == ChannelKind.WEBHOOK and (not channel.secret or new_secret_wanted):
        channel.secret, channel.secret_set_at = new_secret(), timezone.now()
    new = channel.pk is None
    save_with_history(channel, actor=actor, reason=reason)
    if new and channel.owner is not None and channel.kind != ChannelKind.EMAIL and KPI_OWNERS in group_names(channel.owner):
        for kind in OWNER_DEFAULT_KINDS:
            save_with_history(
                Subscription(user=channel.owner, event=kind, channel=channel, owned_only=True, is_default=True),
                actor=actor, reason="Subscribed by default: a KPI owner's new channel hears of their definitions",
            )
    return channel


@transaction.atomic
def save_subscription(subscription, *, actor, reason):
    return save_with_history(subscription, actor=actor, reason=reason)


@transaction.atomic
def delete_with_history(instance, *, actor, reason):
    """Delete a channel or subscription; its history keeps who deleted it and why."""
    instance._change_reason, instance._history_user = reason, actor
    instance.delete()


def matching_subscriptions(event):
    """The subscriptions that receive `event` (see the module's docstring), with what may_receive reads."""
    subscriptions = Subscription.objects.filter(event=event.kind, active=True, channel__active=True).filter(
        Q(user__isnull=True) | Q(user__is_active=True)
    )
    if event.company_id is None:
        subscriptions = subscriptions.filter(company__isnull=True)
    else:
        subscriptions = subscriptions.filter(Q(company=event.company_id) | Q(company__isnull=True, user__isnull=False))
    subscriptions = subscriptions.filter(Q(owned_only=False) | Q(user_id__in=event.concerns))
    if event.kind in PERSONAL_KINDS:
        subscriptions = subscriptions.filter(user_id__in=event.concerns)
    subscriptions = subscriptions.select_related("user", "group", "channel")
    members = set()
    if event.company_id is not None:
        members = set(Membership.objects.filter(company=event.company_id).values_list("user_id", flat=True))
    return [subscription for subscription in subscriptions if may_receive(subscription, event, members)]


def may_receive(subscription, event, members):
    """Tenancy and visibility: may this subscription's person (or group) know of `event`? `members`: the company's."""
    if subscription.group_id is not None:
        return subscription.group.name in READING_ROLES and (not event.internal or subscription.group.name in SEES_INTERNAL_KPIS)
    user = subscription.user
    if not reads_company_data(user):
        return False
    if event.company_id is not None and user.pk not in members and not sees_all_companies(user):
        return False
    return not event.internal or sees_internal_kpis(user)


def record_event(kind, key, *, title, text, link="", company=None, kpi=None, internal=False, concerns=(), data=None):
    """
    Record the event `key` once and one Delivery per subscription that receives it; queue each delivery after the
    commit. An event recorded already (announced again) changes and sends nothing. Returns the Event.
    """
    concerns = sorted({person for person in concerns if person is not None})
    with transaction.atomic():
        event, created = Event.objects.get_or_create(
            key=key,
            defaults={
                "kind": kind, "occurred_at": timezone.now(), "company": company, "kpi": kpi, "internal": internal,
                "concerns": concerns, "title": title[:300], "text": text, "link": link, "data": data or {},
            },
        )
        if not created:
            return event
        Delivery.objects.bulk_create(
            [Delivery(event=event, subscription=s, channel=s.channel) for s in matching_subscriptions(event)],
            ignore_conflicts=True,
        )
        pending = list(event.deliveries.filter(state=DeliveryState.PENDING).values_list("pk", flat=True))
        transaction.on_commit(lambda: [deliver_notification.delay(pk) for pk in pending])
    return event

