from django.apps import AppConfig


class TenancyConfig(AppConfig):
    name = "tenancy"
    verbose_name = "Companies and their services"

    def ready(self):
        from . import admin_access

        admin_access.connect()
