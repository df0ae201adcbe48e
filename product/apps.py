from django.apps import AppConfig


class ProductConfig(AppConfig):
    name = "product"
    verbose_name = "Product usage"

    def ready(self):
        # Registers the active-users and feature-flag CSV imports with connectors.csv_import.
        from . import imports  # noqa: F401
