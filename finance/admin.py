from django.contrib import admin

from connectors.import_admin import CsvImportAdmin

from .models import CloudCostLineItem, RevenueRecord


@admin.register(RevenueRecord)
class RevenueRecordAdmin(CsvImportAdmin):
    import_kind = "billing"
    list_display = ["month", "customer_id", "company", "recurring_revenue", "new", "expansion", "contraction", "churn",
                    "source_file"]
    list_filter = ["company"]
    search_fields = ["customer_id"]
    date_hierarchy = "month"
    list_select_related = ["company"]


@admin.register(CloudCostLineItem)
class CloudCostLineItemAdmin(CsvImportAdmin):
    import_kind = "cloud-cost"
    list_display = ["usage_start", "product_code", "usage_type", "line_item_type", "unblended_cost", "currency",
                    "usage_account_id", "company", "source_file"]
    list_filter = ["company", "line_item_type", "product_code"]
    search_fields = ["line_item_id", "usage_type", "usage_account_id"]
    date_hierarchy = "usage_start"
    list_select_related = ["company"]
