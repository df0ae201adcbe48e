from django.contrib import admin

from connectors.import_admin import CsvImportAdmin

from .models import ActiveUser, FeatureFlagEvaluation


@admin.register(ActiveUser)
class ActiveUserAdmin(CsvImportAdmin):
    import_kind = "active-users"
    list_display = ["day", "tenant_id", "user_id", "company", "source_file"]
    list_filter = ["company"]
    search_fields = ["tenant_id", "user_id"]
    date_hierarchy = "day"
    list_select_related = ["company"]


@admin.register(FeatureFlagEvaluation)
class FeatureFlagEvaluationAdmin(CsvImportAdmin):
    import_kind = "feature-flags"
    list_display = ["day", "flag_key", "variation", "enabled", "evaluations", "contexts", "company", "source_file"]
    list_filter = ["company", "enabled"]
    search_fields = ["flag_key"]
    date_hierarchy = "day"
    list_select_related = ["company"]
