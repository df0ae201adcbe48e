from django.urls import path

from .audit_export import AuditExportView
from .breaches import BreachListView
from .levels import LevelScoresView
from .views import ScorecardView, ScoreSeriesView

urlpatterns = [
    path("scorecards/<str:persona>/", ScorecardView.as_view(), name="scorecard"),
    path("scores/", ScoreSeriesView.as_view(), name="score-series"),
    path("breaches/", BreachListView.as_view(), name="breaches"),
    path("levels/<str:level>/", LevelScoresView.as_view(), name="level-scores"),
    path("audit-export/", AuditExportView.as_view(), name="audit-export"),
]
