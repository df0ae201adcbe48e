"""The exec cockpit's pages, under /cockpit/."""
from django.urls import path

from . import views

app_name = "cockpit"

urlpatterns = [
    path("", views.overview, name="home"),
    path("dimensions/<str:dimension>/", views.dimension, name="dimension"),
    path("kpi/<str:slug>/", views.kpi, name="kpi"),
    path("kpi/<str:slug>/versions/<int:history_id>/", views.version, name="version"),
    path("incidents/", views.incidents, name="incidents"),
    path("incidents/<int:incident_id>/", views.incident, name="incident"),
    path("reviews/", views.reviews, name="reviews"),
    path("levels/", views.levels, name="levels"),
    path("dora/", views.dora, name="dora"),
]
