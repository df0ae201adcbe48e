"""Companies, domains and services in the admin."""
from django.contrib import admin

from .models import Company, Domain, Service


class DomainInline(admin.TabularInline):
    model = Domain
    extra = 0


class ServiceInline(admin.TabularInline):
    model = Service
    extra = 0


@admin.register(Company)
class CompanyAdmin(admin.ModelAdmin):
    list_display = ["slug", "name"]
    search_fields = ["slug", "name"]
    inlines = [DomainInline]


@admin.register(Domain)
class DomainAdmin(admin.ModelAdmin):
    list_display = ["slug", "name", "company"]
    list_filter = ["company"]
    search_fields = ["slug", "name", "company__slug"]
    list_select_related = ["company"]
    autocomplete_fields = ["company"]
    inlines = [ServiceInline]


@admin.register(Service)
class ServiceAdmin(admin.ModelAdmin):
    list_display = ["slug", "name", "domain"]
    list_filter = ["domain__company"]
    search_fields = ["slug", "name", "domain__slug", "domain__company__slug"]
    list_select_related = ["domain__company"]
    autocomplete_fields = ["domain"]
