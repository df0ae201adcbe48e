from django.urls import path

from connectors.api.imports import CsvImportView

urlpatterns = [
    path("imports/active-users/", CsvImportView.as_view(kind="active-users"), name="import-active-users"),
    path("imports/feature-flags/", CsvImportView.as_view(kind="feature-flags"), name="import-feature-flags"),
]
