from django.apps import AppConfig
from django.utils.module_loading import autodiscover_modules


class KpisConfig(AppConfig):
    name = "kpis"
    verbose_name = "KPI registry"

    def ready(self):
        # Each app registers the formulas of its KPIs in its calculators module (kpis.calculators' registry).
        autodiscover_modules("calculators")
        from companyos.events import incident_data_changed

        from .tasks.daily_totals import on_incident_data_changed

        incident_data_changed.connect(on_incident_data_changed, dispatch_uid="kpis.daily_totals")
