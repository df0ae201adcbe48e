"""The cockpit's page where a person manages the notifications they receive: their channels and subscriptions."""
from functools import wraps

from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from cockpit.views import NO_ROLE
from tenancy.roles import reads_company_data

from . import services
from .forms import ChannelForm, SubscriptionForm
from .models import Channel, Subscription

REASON = "Changed in the cockpit by its owner"


def with_a_role(view):
    @wraps(view)
    @login_required
    def checked(request, *args, **kwargs):
        if not reads_company_data(request.user):
            return render(request, "cockpit/no_access.html", {"message": NO_ROLE}, status=403)
        return view(request, *args, **kwargs)

    return checked


@with_a_role
def subscriptions(request):
    """GET: the page. POST: add a channel (`add_channel`) or a subscription (`add_subscription`)."""
    channel_form = ChannelForm(prefix="channel")
    subscription_form = SubscriptionForm(prefix="subscription", user=request.user)
    made_secret = None
    if request.method == "POST" and "add_channel" in request.POST:
        channel_form = ChannelForm(request.POST, prefix="channel", instance=Channel(owner=request.user))
        if channel_form.is_valid():
            channel = services.save_channel(channel_form.instance, actor=request.user, reason=REASON)
            if not channel.secret:
                return redirect("notifications:subscriptions")
            # Shown in this answer only: the page is rendered, not redirected to, so a reload does not show it again.
            made_secret = channel
            channel_form = ChannelForm(prefix="channel")
    elif request.method == "POST" and "add_subscription" in request.POST:
        subscription_form = SubscriptionForm(request.POST, prefix="subscription", user=request.user)
        if subscription_form.is_valid():
            services.save_subscription(subscription_form.instance, actor=request.user, reason=REASON)
            return redirect("notifications:subscriptions")
    context = {
        "subscriptions": Subscription.objects.filter(user=request.user).select_related("channel", "company"),
        "channels": Channel.objects.filter(owner=request.user),
        "channel_form": channel_form,
        "subscription_form": subscription_form,
        "made_secret": made_secret,
    }
    return render(request, "notifications/subscriptions.html", context, status=400 if request.method == "POST" and not made_secret else 200)


@require_POST
@with_a_role
def change_subscription(request, subscription_id):
    """Turn one of your subscriptions on or off (`active`), or delete it (`delete`)."""
    subscription = get_object_or_404(Subscription, pk=subscription_id, user=request.user)
    if "delete" in request.POST:
        services.delete_with_history(subscription, actor=request.user, reason=REASON)
    else:
        subscription.active = request.POST.get("active") == "1"
        services.save_subscription(subscription, actor=request.user, reason=REASON)
    return redirect("notifications:subscriptions")


@require_POST
@with_a_role
def change_channel(request, channel_id):
    """Delete one of your channels (and its subscriptions)."""
    channel = get_object_or_404(Channel, pk=channel_id, owner=request.user)
    services.delete_with_history(channel, actor=request.user, reason=REASON)
    return redirect("notifications:subscriptions")
