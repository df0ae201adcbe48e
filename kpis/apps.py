from django.apps import AppConfig
from django.utils.module_loading import autodiscover_modules


class KpisConfig(AppConfig):
    name = "kpis"
    verbose_name = "KPI registry"

    def ready(self):
        # Each app registers the formulas of its KPIs in its calculators module (kpis.calculators' registry).
        autodiscover_modules("calculators")
        from companyos.events import incident_data_changed

        from . import daily_totals

        incident_data_changed.connect(daily_totals.refresh_changed_days, dispatch_uid="kpis.daily_totals")
