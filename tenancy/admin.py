"""
Companies, domains and services in the admin, and memberships: granted on a user's page or a company's page,
every grant and removal kept in the history (who, when) and listed under *Membership changes*.
"""
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from simple_history.admin import SimpleHistoryAdmin

from companyos.admin import ReadOnlyAdmin

from .access import in_visible_companies, writable_companies
from .admin_scoping import CompanyScopedAdmin
from .models import Company, Domain, Membership, Service


class DomainInline(admin.TabularInline):
    model = Domain
    extra = 0


class ServiceInline(admin.TabularInline):
    model = Service
    extra = 0


class CompanyMemberInline(admin.TabularInline):
    """A company's members; their role groups say what they may do with its data."""

    model = Membership
    extra = 0
    fields = ["user", "granted_at"]
    readonly_fields = ["granted_at"]
    autocomplete_fields = ["user"]
    verbose_name = "member"
    verbose_name_plural = "members (what each may do: their groups)"


class UserCompanyInline(admin.TabularInline):
    """The companies a user belongs to; superusers and the "All companies" group see every company anyway."""

    model = Membership
    extra = 0
    fields = ["company", "granted_at"]
    readonly_fields = ["granted_at"]
    autocomplete_fields = ["company"]
    verbose_name = "company"
    verbose_name_plural = "companies (superusers and the All companies group see every company)"

    def get_queryset(self, request):
        # Memberships of companies the viewer does not see stay out of sight (and untouched on save).
        return in_visible_companies(super().get_queryset(request), request.user)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        # One grants only the companies one belongs to (a superuser: any).
        if db_field.name == "company":
            kwargs["queryset"] = writable_companies(request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


@admin.register(Company)
class CompanyAdmin(CompanyScopedAdmin, admin.ModelAdmin):
    company_path = "pk"
    list_display = ["slug", "name"]
    search_fields = ["slug", "name"]
    inlines = [DomainInline, CompanyMemberInline]


@admin.register(Domain)
class DomainAdmin(CompanyScopedAdmin, admin.ModelAdmin):
    list_display = ["slug", "name", "company"]
    list_filter = ["company"]
    search_fields = ["slug", "name", "company__slug"]
    list_select_related = ["company"]
    autocomplete_fields = ["company"]
    inlines = [ServiceInline]


@admin.register(Service)
class ServiceAdmin(CompanyScopedAdmin, admin.ModelAdmin):
    company_path = "domain__company"
    list_display = ["slug", "name", "domain"]
    list_filter = ["domain__company"]
    search_fields = ["slug", "name", "domain__slug", "domain__company__slug"]
    list_select_related = ["domain__company"]
    autocomplete_fields = ["domain"]


@admin.register(Membership)
class MembershipAdmin(CompanyScopedAdmin, SimpleHistoryAdmin):
    list_display = ["user", "company", "granted_at"]
    list_filter = ["company"]
    search_fields = ["user__username", "company__slug"]
    list_select_related = ["user", "company"]
    autocomplete_fields = ["user", "company"]


@admin.register(Membership.history.model)
class MembershipChangeAdmin(CompanyScopedAdmin, ReadOnlyAdmin):
    """Every grant (+) and removal (-) of a membership: who made it and when."""

    list_display = ["history_date", "history_type", "user", "company", "history_user"]
    list_filter = ["history_type", "company"]
    search_fields = ["user__username", "company__slug", "history_user__username"]
    list_select_related = ["user", "company", "history_user"]
    date_hierarchy = "history_date"


admin.site.unregister(get_user_model())


@admin.register(get_user_model())
class UserWithCompaniesAdmin(UserAdmin):
    inlines = [*UserAdmin.inlines, UserCompanyInline]
