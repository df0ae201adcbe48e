from django.urls import path

from .breaches import BreachListView
from .views import ScorecardView, ScoreSeriesView

urlpatterns = [
    path("scorecards/<str:persona>/", ScorecardView.as_view(), name="scorecard"),
    path("scores/", ScoreSeriesView.as_view(), name="score-series"),
    path("breaches/", BreachListView.as_view(), name="breaches"),
]
