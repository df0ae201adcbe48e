from django.apps import AppConfig


class FinanceConfig(AppConfig):
    name = "finance"
    verbose_name = "Finance"

    def ready(self):
        # Registers the billing and cloud-cost CSV imports with connectors.csv_import.
        from . import imports  # noqa: F401
