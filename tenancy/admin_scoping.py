"""
The admin of a tenant's rows for staff who do not see every company: they list, open and choose only the rows and
companies of their memberships (tenancy.access), like the API and the cockpit.
"""
from django.contrib import admin

from .access import in_visible_companies, in_writable_companies, sees_all_companies
from .models import Company, Domain, Service

# The lookup from each tenancy model to its company, and what its name (str) reads.
COMPANY_OF = {Company: "pk", Domain: "company", Service: "domain__company"}
NAMED_WITH = {Company: [], Domain: ["company"], Service: ["domain__company"]}


class TenantListFilter(admin.RelatedFieldListFilter):
    """A filter by company, domain or service that offers only those of the companies the user may see."""

    def field_choices(self, field, request, model_admin):
        model = field.related_model
        rows = in_visible_companies(model.objects.select_related(*NAMED_WITH[model]), request.user, via=COMPANY_OF[model])
        return [(row.pk, str(row)) for row in rows]


class CompanyScopedAdmin:
    """
    A ModelAdmin mixin (before ModelAdmin in the bases) for rows that belong to a company, reached from the model
    by the lookup `company_path`. Lists and pages show the rows of the user's companies; choices of a company,
    domain, service or another company's row (an incident) offer only those the user may write into; filters by a
    company, domain or service list only the user's.
    """

    company_path = "company"

    def get_queryset(self, request):
        return in_visible_companies(super().get_queryset(request), request.user, via=self.company_path)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        path = _company_path(db_field.related_model)
        if path is not None:
            kwargs["queryset"] = in_writable_companies(db_field.related_model.objects.all(), request.user, via=path)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_list_filter(self, request):
        return [
            (entry, TenantListFilter) if isinstance(entry, str) and _ends_at_a_tenancy_model(self.model, entry) else entry
            for entry in super().get_list_filter(request)
        ]

    def _in_scope(self, request, obj):
        if obj is None or sees_all_companies(request.user):
            return True
        return self.get_queryset(request).filter(pk=obj.pk).exists()

    # History pages find deleted or hidden rows through their history: the object itself must be in scope.
    def has_view_permission(self, request, obj=None):
        return super().has_view_permission(request, obj) and self._in_scope(request, obj)

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and self._in_scope(request, obj)

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and self._in_scope(request, obj)


def _company_path(model):
    """The lookup from `model` to its company: a tenancy model's, or a `company` foreign key (an incident's); else None."""
    if model in COMPANY_OF:
        return COMPANY_OF[model]
    company = next((field for field in model._meta.get_fields() if field.name == "company"), None)
    return "company" if company is not None and company.related_model is Company else None


def _ends_at_a_tenancy_model(model, path):
    """Whether the lookup `path` from `model` ends at a company, domain or service."""
    for name in path.split("__"):
        model = model._meta.get_field(name).related_model
        if model is None:
            return False
    return model in COMPANY_OF
