from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.generic import RedirectView

from scoring.views import metrics

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="cockpit:home", permanent=False)),
    path("cockpit/", include("scoring.urls")),
    path("accounts/login/", auth_views.LoginView.as_view(template_name="cockpit/login.html"), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    path("api/", include("companyos.api.urls")),
    path("metrics", metrics, name="metrics"),
]
