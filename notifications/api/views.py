"""A person's own notification channels and subscriptions; administrators manage shared ones in the admin."""
from rest_framework import viewsets
from rest_framework.permissions import BasePermission, IsAuthenticated

from tenancy.roles import reads_company_data

from .. import services
from ..models import Channel, Subscription
from .serializers import ChannelSerializer, SubscriptionSerializer

REASON = "Changed through the API by its owner"


class HasAReadingRole(BasePermission):
    """Notifications tell of company data: managing them, like reading it, needs a role."""

    message = "Notifications need a role: an administrator adds you to a group and to your companies."

    def has_permission(self, request, view):
        return reads_company_data(request.user)


class OwnObjectsViewSet(viewsets.ModelViewSet):
    """The caller's own rows of `model`, found by `owner_field`."""

    permission_classes = [IsAuthenticated, HasAReadingRole]
    ordering = ["pk"]
    model = None
    owner_field = None

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # the schema generator looks at the view without a person
            return self.model.objects.none()
        return self.model.objects.filter(**{self.owner_field: self.request.user}).order_by("pk")

    def perform_destroy(self, instance):
        services.delete_with_history(instance, actor=self.request.user, reason=REASON)


class ChannelViewSet(OwnObjectsViewSet):
    """Your channels: e-mail, chat webhooks (Slack, Mattermost, Rocket.Chat) and signed webhooks."""

    serializer_class = ChannelSerializer
    filterset_fields = ["kind", "active"]
    model, owner_field = Channel, "owner"

    def perform_create(self, serializer):
        self.perform_update(serializer)

    def perform_update(self, serializer):
        new_secret_wanted = serializer.validated_data.pop("new_secret", False)
        channel = serializer.instance or Channel(owner=self.request.user)
        had_secret = channel.secret
        for name, value in serializer.validated_data.items():
            setattr(channel, name, value)
        serializer.instance = services.save_channel(channel, actor=self.request.user, reason=REASON,
                                                    new_secret_wanted=new_secret_wanted)
        # The signing secret is in the answer of the write that made it, and nowhere else.
        serializer.context["show_secret"] = channel.secret != had_secret


class SubscriptionViewSet(OwnObjectsViewSet):
    """Your subscriptions: which events reach you on which of your channels."""

    serializer_class = SubscriptionSerializer
    filterset_fields = ["event", "active"]
    model, owner_field = Subscription, "user"

    def get_queryset(self):
        return super().get_queryset().select_related("company")

    def perform_create(self, serializer):
        serializer.instance = services.save_subscription(
            Subscription(user=self.request.user, **serializer.validated_data), actor=self.request.user, reason=REASON
        )

    def perform_update(self, serializer):
        subscription = serializer.instance
        for name, value in serializer.validated_data.items():
            setattr(subscription, name, value)
        serializer.instance = services.save_subscription(subscription, actor=self.request.user, reason=REASON)
