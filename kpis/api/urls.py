from django.urls import path
from rest_framework.routers import SimpleRouter

from .openslo_views import OpenSloView
from .views import (
    IncidentObservationListView,
    KpiChangeProposalViewSet,
    KpiDefinitionViewSet,
    KpiMetricsView,
    KpiObservationListView,
    ObservationIngestView,
)

router = SimpleRouter()
router.register("kpis", KpiDefinitionViewSet, basename="kpi")
router.register("proposals", KpiChangeProposalViewSet, basename="proposal")

urlpatterns = [
    path("observations/", ObservationIngestView.as_view(), name="observation-ingest"),
    path("metrics/kpis/", KpiMetricsView.as_view(), name="kpi-metrics"),
    path("openslo/", OpenSloView.as_view(), name="openslo"),
    path("kpis/<str:slug>/observations/", KpiObservationListView.as_view(), name="kpi-observations"),
    path("incidents/<int:incident_id>/kpis/", IncidentObservationListView.as_view(), name="incident-kpis"),
    *router.urls,
]
