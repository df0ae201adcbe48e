from django.urls import path
from rest_framework.routers import SimpleRouter

from .views import KpiDefinitionViewSet, KpiObservationListView

router = SimpleRouter()
router.register("kpis", KpiDefinitionViewSet, basename="kpi")

urlpatterns = [
    path("kpis/<str:slug>/observations/", KpiObservationListView.as_view(), name="kpi-observations"),
    *router.urls,
]
