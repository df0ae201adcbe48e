from django.urls import path

from connectors.api.imports import CsvImportView

urlpatterns = [
    path("imports/billing/", CsvImportView.as_view(kind="billing"), name="import-billing"),
    path("imports/cloud-cost/", CsvImportView.as_view(kind="cloud-cost"), name="import-cloud-cost"),
]
