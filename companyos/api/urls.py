from django.contrib.auth.decorators import login_required
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from .views import not_found

urlpatterns = [
    path("", include("kpis.api.urls")),
    path("", include("incidents.api.urls")),
    path("", include("scoring.api.urls")),
    path("", include("connectors.api.urls")),
    path("", include("delivery.api.urls")),
    path("", include("security.api.urls")),
    path("", include("finance.api.urls")),
    path("", include("product.api.urls")),
    path("", include("notifications.api.urls")),
    path("", include("reports.api.urls")),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    # A browser page: an anonymous visitor is sent to log in. Its script is a separate file (the split view), as the
    # Content-Security-Policy allows no inline script.
    path("docs/", login_required(SpectacularSwaggerSplitView.as_view(url_name="schema")), name="api-docs"),
    re_path(r"^[\s\S]*$", not_found),  # [\s\S]: a path with an encoded newline is unmatched too
]
