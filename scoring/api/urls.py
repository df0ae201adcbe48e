from django.urls import path

from .views import ScorecardView, ScoreSeriesView

urlpatterns = [
    path("scorecards/<str:persona>/", ScorecardView.as_view(), name="scorecard"),
    path("scores/", ScoreSeriesView.as_view(), name="score-series"),
]
