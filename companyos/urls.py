from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from scoring.views import metrics

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="admin:index", permanent=False)),
    path("admin/", admin.site.urls),
    path("api/", include("companyos.api.urls")),
    path("metrics", metrics, name="metrics"),
]
