"""
Incident data in the admin. Correlation configs are change-controlled: every save goes through
incidents.services with the editor and a required reason. Alert and incident lists stay fast at
millions of rows: related rows are joined, foreign keys are raw ids and the full count is skipped.
"""
from django import forms
from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from companyos.admin import change_reason_field
from tenancy.access import in_visible_companies
from tenancy.admin_scoping import CompanyScopedAdmin

from . import services
from .models import (
    Alert,
    CorrelationConfig,
    Incident,
    Milestone,
    PatchComplianceSnapshot,
    PhaseTransition,
    RunbookExecution,
    SurveyResponse,
)

CONFIG_FIELDS = ["aggregation_key", "time_window_minutes", "auto_correlate"]


class CorrelationConfigForm(forms.ModelForm):
    """The config's fields plus the reason that every change must carry."""

    change_reason = change_reason_field()

    class Meta:
        model = CorrelationConfig
        fields = ["company", *CONFIG_FIELDS]


@admin.register(CorrelationConfig)
class CorrelationConfigAdmin(CompanyScopedAdmin, SimpleHistoryAdmin):
    form = CorrelationConfigForm
    list_display = ["company", "aggregation_key", "time_window_minutes", "auto_correlate"]
    list_filter = ["auto_correlate"]
    search_fields = ["company__slug"]
    list_select_related = ["company"]
    autocomplete_fields = ["company"]

    def get_readonly_fields(self, request, obj=None):
        # A config belongs to its company for life; history would otherwise mix two companies.
        return ["company"] if obj is not None else []

    def save_model(self, request, obj, form, change):
        reason = form.cleaned_data["change_reason"]
        fields = {name: form.cleaned_data[name] for name in CONFIG_FIELDS}
        if change:
            config = services.change_correlation_config(
                CorrelationConfig.objects.get(pk=obj.pk), actor=request.user, reason=reason, **fields
            )
        else:
            config = services.create_correlation_config(form.cleaned_data["company"], actor=request.user, reason=reason, **fields)
            obj._state.adding = False
        obj.pk = config.pk
        obj.refresh_from_db()


class PhaseTransitionInline(admin.TabularInline):
    model = PhaseTransition
    extra = 0


class MilestoneInline(admin.TabularInline):
    model = Milestone
    extra = 0


class SurveyResponseInline(admin.TabularInline):
    model = SurveyResponse
    extra = 0


@admin.register(Incident)
class IncidentAdmin(CompanyScopedAdmin, admin.ModelAdmin):
    list_display = [
        "external_id", "title", "company", "service", "severity", "status", "detected_at", "resolved_at", "automation_used",
    ]
    list_filter = ["company", "severity", "status", "automation_used"]
    search_fields = ["external_id", "title", "correlation_key"]
    list_select_related = ["company", "service__domain__company"]
    autocomplete_fields = ["company"]
    raw_id_fields = ["service"]
    readonly_fields = ["source_event", "merged_into", "created_at"]
    inlines = [PhaseTransitionInline, MilestoneInline, SurveyResponseInline]
    show_full_result_count = False

    def get_queryset(self, request):
        # Incidents merged into another too: the admin keeps the whole record, each saying where it went.
        incidents = Incident.all_objects.all()
        ordering = self.get_ordering(request)
        if ordering:
            incidents = incidents.order_by(*ordering)
        return in_visible_companies(incidents, request.user, via=self.company_path)


@admin.register(Alert)
class AlertAdmin(CompanyScopedAdmin, admin.ModelAdmin):
    list_display = ["issued_at", "ended_at", "company", "asset", "signature", "severity", "source", "incident"]
    list_filter = ["company", "severity", "source"]
    search_fields = ["asset", "signature"]
    list_select_related = ["company", "incident__company"]
    autocomplete_fields = ["company"]
    raw_id_fields = ["service", "incident"]
    readonly_fields = ["payload", "received_at"]
    show_full_result_count = False


@admin.register(RunbookExecution)
class RunbookExecutionAdmin(CompanyScopedAdmin, admin.ModelAdmin):
    list_display = ["execution_id", "runbook_id", "company", "incident", "started_at", "finished_at", "success"]
    list_filter = ["company", "runbook_id", "success"]
    search_fields = ["execution_id", "runbook_id"]
    list_select_related = ["company", "incident__company"]
    autocomplete_fields = ["company"]
    raw_id_fields = ["incident"]
    show_full_result_count = False


@admin.register(PatchComplianceSnapshot)
class PatchComplianceSnapshotAdmin(CompanyScopedAdmin, admin.ModelAdmin):
    list_display = [
        "company", "scanned_at", "total_instances", "compliant_instances", "non_compliant_instances", "compliance_percent",
        "critical_patches_missing",
    ]
    list_filter = ["company"]
    list_select_related = ["company"]
    autocomplete_fields = ["company"]

    @admin.display(description="Compliance %")
    def compliance_percent(self, snapshot):
        if not snapshot.total_instances:
            return None
        return round(100 * snapshot.compliant_instances / snapshot.total_instances, 1)
