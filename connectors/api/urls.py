from rest_framework.routers import SimpleRouter

from .views import SourceEventViewSet

router = SimpleRouter()
router.register("source-events", SourceEventViewSet, basename="source-event")

urlpatterns = router.urls
