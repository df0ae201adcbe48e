"""Admin: stored reports are read-only, as they were built; their PDF and HTML are downloaded from the cockpit."""
from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html

from companyos.admin import ReadOnlyAdmin
from tenancy.admin_scoping import CompanyScopedAdmin

from .models import Report


@admin.register(Report)
class ReportAdmin(CompanyScopedAdmin, ReadOnlyAdmin):
    list_display = ["company", "period_start", "period_end", "kind", "audience", "created_at", "requested_by"]
    list_filter = ["kind", "audience", "company"]
    date_hierarchy = "period_end"
    fields = ["company", "period_start", "period_end", "kind", "audience", "created_at", "requested_by", "downloads", "sources"]
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).defer("html", "pdf")

    @admin.display(description="Downloads")
    def downloads(self, report):
        return format_html('<a href="{}">PDF</a> · <a href="{}">HTML</a>',
                           reverse("reports:pdf", args=[report.pk]), reverse("reports:html", args=[report.pk]))
