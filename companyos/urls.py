from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path, re_path
from django.views.generic import RedirectView

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="cockpit:home", permanent=False)),
    path("cockpit/reports/", include("reports.urls")),
    path("cockpit/notifications/", include("notifications.urls")),
    path("cockpit/", include("cockpit.urls")),
    path("accounts/login/", auth_views.LoginView.as_view(template_name="cockpit/login.html"), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    # Companies, domains and services were administered under incidents before they had an app of their own.
    re_path(
        r"^admin/incidents/(?P<rest>(?:company|domain|service)/.*)$",
        RedirectView.as_view(url="/admin/tenancy/%(rest)s", permanent=True, query_string=True),
    ),
    path("admin/", admin.site.urls),
    path("api/", include("companyos.api.urls")),
    path("", include("scoring.urls")),
]
