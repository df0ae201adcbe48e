from rest_framework.routers import SimpleRouter

from .integrations import PrometheusIntegrationViewSet
from .views import SourceEventViewSet

router = SimpleRouter()
router.register("source-events", SourceEventViewSet, basename="source-event")
router.register("integrations/prometheus", PrometheusIntegrationViewSet, basename="prometheus-integration")

urlpatterns = router.urls
