"""Admin: the dimension weights are change-controlled; snapshots and breaches are read-only evidence."""
from django import forms
from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from companyos.admin import ReadOnlyAdmin

from .models import SCORED_DIMENSIONS, Breach, DimensionWeights, ScoreSnapshot
from .services import change_weights


class DimensionWeightsForm(forms.ModelForm):
    change_reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}), help_text="Why the weights change; kept in their history."
    )

    class Meta:
        model = DimensionWeights
        fields = [dimension.value for dimension in SCORED_DIMENSIONS]


@admin.register(DimensionWeights)
class DimensionWeightsAdmin(SimpleHistoryAdmin):
    form = DimensionWeightsForm
    list_display = ["__str__", "updated_at"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        weights = {dimension.value: form.cleaned_data[dimension.value] for dimension in SCORED_DIMENSIONS}
        change_weights(actor=request.user, reason=form.cleaned_data["change_reason"], **weights)


@admin.register(ScoreSnapshot)
class ScoreSnapshotAdmin(ReadOnlyAdmin):
    list_display = ["day", "company", "domain", "service", "level", "composite", "band", "computed_at"]
    list_filter = ["level", "band", "company", "day"]
    date_hierarchy = "day"
    list_select_related = ["company", "domain__company", "service__domain__company"]
    search_fields = ["company__slug", "domain__slug", "service__slug"]


class OpenFilter(admin.SimpleListFilter):
    title = "state"
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [("open", "Open"), ("closed", "Closed")]

    def queryset(self, request, queryset):
        if self.value() == "open":
            return queryset.filter(closed_at__isnull=True)
        if self.value() == "closed":
            return queryset.filter(closed_at__isnull=False)
        return queryset


@admin.register(Breach)
class BreachAdmin(ReadOnlyAdmin):
    list_display = ["kpi", "company", "domain", "service", "started_at", "opened_at", "closed_at", "worst_value", "notified_at"]
    list_filter = [OpenFilter, "kpi", "company"]
    list_select_related = ["kpi", "company", "domain__company", "service__domain__company"]
    date_hierarchy = "opened_at"
