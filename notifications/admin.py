from django import forms
from django.contrib import admin, messages
from simple_history.admin import SimpleHistoryAdmin

from companyos.admin import ReadOnlyAdmin, change_reason_field
from tenancy.admin_scoping import CompanyScopedAdmin

from . import services
from .choices import ChannelKind
from .models import Channel, Delivery, Event, Subscription


class ChannelForm(forms.ModelForm):
    url = forms.URLField(required=False, max_length=2000, assume_scheme="https", help_text=Channel._meta.get_field("url").help_text)
    new_secret = forms.BooleanField(
        label="Make a new secret", required=False,
        help_text="Signed webhooks: replace the signing secret; the new one is shown once, after saving.",
    )
    change_reason = change_reason_field()

    class Meta:
        model = Channel
        fields = ["owner", "name", "kind", "address", "url", "rate_per_minute", "active"]


@admin.register(Channel)
class ChannelAdmin(SimpleHistoryAdmin):
    form = ChannelForm
    list_display = ["name", "kind", "owner", "masked_url", "rate_per_minute", "active", "secret_set_at"]
    list_filter = ["kind", "active"]
    search_fields = ["name", "owner__username", "address"]
    readonly_fields = ["secret_shown", "secret_set_at"]

    @admin.display(description="URL")
    def masked_url(self, channel):
        """Chat webhook URLs carry their token in the path: the host is enough to tell them apart."""
        return channel.url.split("/", 3)[2] if channel.url else channel.recipient_address

    @admin.display(description="Secret")
    def secret_shown(self, channel):
        return "•••••••• (shown once, when made)" if channel.secret else "–"

    def save_model(self, request, obj, form, change):
        made = obj.kind == ChannelKind.WEBHOOK and (not obj.secret or form.cleaned_data["new_secret"])
        services.save_channel(
            obj, actor=request.user, reason=form.cleaned_data["change_reason"], new_secret_wanted=form.cleaned_data["new_secret"]
        )
        if made:
            messages.warning(
                request, f"The signing secret of {obj.name} is {obj.secret} — copy it now to the receiver; it is not shown again.",
            )


class SubscriptionForm(forms.ModelForm):
    change_reason = change_reason_field()

    class Meta:
        model = Subscription
        fields = ["user", "group", "event", "channel", "company", "owned_only", "active"]


@admin.register(Subscription)
class SubscriptionAdmin(SimpleHistoryAdmin):
    form = SubscriptionForm
    list_display = ["event", "user", "group", "channel", "company", "owned_only", "active", "is_default"]
    list_filter = ["event", "active", "is_default", "group"]
    search_fields = ["user__username", "group__name", "channel__name"]
    list_select_related = ["user", "group", "channel", "company"]

    def save_model(self, request, obj, form, change):
        services.save_subscription(obj, actor=request.user, reason=form.cleaned_data["change_reason"])


@admin.register(Delivery)
class DeliveryAdmin(CompanyScopedAdmin, ReadOnlyAdmin):
    """The delivery log: every message, its attempts and the receiver's last answer."""

    company_path = "event__company"
    list_display = ["created_at", "event_kind", "event", "channel", "state", "attempts", "response_status", "sent_at", "last_error"]
    list_filter = ["state", "event__kind", "channel__kind"]
    search_fields = ["delivery_id", "event__key", "channel__name"]
    list_select_related = ["event", "channel"]
    date_hierarchy = "created_at"

    @admin.display(description="Event", ordering="event__kind")
    def event_kind(self, delivery):
        return delivery.event.kind


@admin.register(Event)
class EventAdmin(CompanyScopedAdmin, ReadOnlyAdmin):
    list_display = ["occurred_at", "kind", "title", "company", "kpi"]
    list_filter = ["kind"]
    search_fields = ["key", "title"]
    list_select_related = ["company", "kpi"]
