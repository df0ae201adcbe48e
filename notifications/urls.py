"""The cockpit's notifications page, under /cockpit/notifications/."""
from django.urls import path

from . import views

app_name = "notifications"

urlpatterns = [
    path("", views.subscriptions, name="subscriptions"),
    path("subscriptions/<int:subscription_id>/", views.change_subscription, name="subscription"),
    path("channels/<int:channel_id>/", views.change_channel, name="channel"),
]
