"""The cockpit page's forms: a person's own channels and subscriptions."""
from django import forms

from tenancy.access import visible_companies

from .models import Channel, Subscription


class ChannelForm(forms.ModelForm):
    url = forms.URLField(required=False, max_length=2000, assume_scheme="https", help_text=Channel._meta.get_field("url").help_text)
    class Meta:
        model = Channel
        fields = ["name", "kind", "address", "url", "rate_per_minute"]
        help_texts = {"address": "Empty: your account's address."}


class SubscriptionForm(forms.ModelForm):
    class Meta:
        model = Subscription
        fields = ["event", "channel", "company", "owned_only"]
        labels = {"owned_only": "Only what I own or proposed", "company": "Company (empty: all of yours)"}

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.instance.user = user
        self.fields["channel"].queryset = Channel.objects.filter(owner=user, active=True)
        self.fields["company"].queryset = visible_companies(user)
