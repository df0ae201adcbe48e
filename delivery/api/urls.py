from django.urls import path

from .dora import DoraTiersView
from .views import GitHubWebhookView

urlpatterns = [
    path("webhooks/github/<int:integration_id>/", GitHubWebhookView.as_view(), name="github-webhook"),
    path("dora/tiers/", DoraTiersView.as_view(), name="dora-tiers"),
]
