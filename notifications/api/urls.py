from rest_framework.routers import SimpleRouter

from .views import ChannelViewSet, SubscriptionViewSet

router = SimpleRouter()
router.register("notifications/channels", ChannelViewSet, basename="notification-channel")
router.register("notifications/subscriptions", SubscriptionViewSet, basename="notification-subscription")

urlpatterns = router.urls
