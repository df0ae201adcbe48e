from django.urls import path

from .views import GitHubWebhookView

urlpatterns = [
    path("webhooks/github/<int:integration_id>/", GitHubWebhookView.as_view(), name="github-webhook"),
]
