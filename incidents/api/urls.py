from django.urls import path
from rest_framework.routers import SimpleRouter

from .counts import AlertCountView, IncidentCountView
from .views import (
    AlertIngestView,
    AlertmanagerWebhookView,
    IncidentViewSet,
    PagerDutyWebhookView,
    RunbookExecutionIngestView,
)

router = SimpleRouter()
router.register("incidents", IncidentViewSet, basename="incident")

urlpatterns = [
    path("alerts/", AlertIngestView.as_view(), name="alert-ingest"),
    path("webhooks/alertmanager/", AlertmanagerWebhookView.as_view(), name="alertmanager-webhook"),
    path("webhooks/pagerduty/<int:integration_id>/", PagerDutyWebhookView.as_view(), name="pagerduty-webhook"),
    path("runbook-executions/", RunbookExecutionIngestView.as_view(), name="runbook-execution-ingest"),
    path("alerts/count/", AlertCountView.as_view(), name="alert-count"),
    path("incidents/count/", IncidentCountView.as_view(), name="incident-count"),
    *router.urls,
]
