"""factory_boy factories of notifications: channels and subscriptions, made through the audited services."""
import factory

from notifications import services
from notifications.choices import ChannelKind, EventKind
from notifications.models import Channel, Subscription
from tests.companyos.factories import UserFactory


class ChannelFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Channel

    owner = factory.SubFactory(UserFactory)
    name = factory.Sequence(lambda n: f"channel {n}")
    kind = ChannelKind.CHAT

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        return services.save_channel(model_class(**kwargs), actor=None, reason="Made by a test factory")


class SubscriptionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Subscription

    user = factory.LazyAttribute(lambda subscription: subscription.channel.owner)
    event = EventKind.BREACH_OPENED
    channel = factory.SubFactory(ChannelFactory)

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        return services.save_subscription(model_class(**kwargs), actor=None, reason="Made by a test factory")
