"""
The KPI registry in the admin: definitions under change control, their change log and reverts, reviews.

Every save goes through kpis.services with the editor and a required reason. KPI owners may change only the
definitions they own (never the owner); auditors and everyone else without the permission only read.
On an active definition, a save or revert that changes a score-moving field becomes a proposal; KPI approvers
approve or reject pending proposals from their list. History rows are read-only for everyone.
"""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Exists, OuterRef
from django.http import Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from simple_history.admin import SimpleHistoryAdmin

from companyos.admin import ReadOnlyAdmin, change_reason_field
from tenancy.admin_scoping import TenantListFilter

from . import services
from .choices import ProposalStatus, ReviewOutcome
from .history import HistoricalKpiDefinition, change_log, revert_preview
from .models import KpiChangeProposal, KpiDefinition, KpiReview, Observation, PrometheusCollection, ReviewReminder
from .permissions import may_change_definition, may_decide_proposals
from .proposal_decisions import ProposalDecisionActions

EDITABLE_FIELDS = {field.name for field in KpiDefinition._meta.fields if field.editable}


class KpiDefinitionForm(forms.ModelForm):
    """The definition's fields plus the reason that every change must carry."""

    change_reason = change_reason_field()

    class Meta:
        model = KpiDefinition
        fields = "__all__"

    def clean_target_schedule(self):
        # An emptied box is no dated targets, as the model's default, not a change to null.
        return self.cleaned_data["target_schedule"] or []

    def clean(self):
        cleaned = super().clean()
        if self.instance.pk:
            # Refuse here, on the form, a change that would be a second open proposal, naming the first.
            stored = KpiDefinition.objects.get(pk=self.instance.pk)
            try:
                services.check_no_open_proposal(stored, {name: value for name, value in cleaned.items() if name in EDITABLE_FIELDS})
            except ValidationError as conflict:
                self.add_error(None, conflict.messages)
        return cleaned


class RevertForm(forms.Form):
    """Asks why a definition is being reverted to an earlier version."""

    change_reason = change_reason_field()


class ProposalDecisionForm(forms.Form):
    """The intermediate page of approving or rejecting proposals: the comment, and an emergency reason if any."""

    comment = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2, "cols": 80}),
        help_text="Required. Recorded with the decision and e-mailed to the author and the owner.",
    )
    emergency_reason = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "cols": 80}),
        help_text="Only for a superuser approving their own proposal; recorded and listed for auditors.",
    )


class MarkReviewedForm(forms.Form):
    """The intermediate page of "Mark reviewed": the outcome of the review and its notes."""

    outcome = forms.ChoiceField(choices=ReviewOutcome.choices, initial=ReviewOutcome.CONFIRMED, widget=forms.RadioSelect)
    notes = forms.CharField(widget=forms.Textarea(attrs={"rows": 3, "cols": 80}), required=False)


class ReviewOverdueFilter(admin.SimpleListFilter):
    title = "review overdue"
    parameter_name = "review_overdue"

    def lookups(self, request, model_admin):
        return [("yes", "Overdue"), ("no", "Not overdue")]

    def queryset(self, request, queryset):
        if self.value() in ("yes", "no"):
            return queryset.filter(is_review_overdue=self.value() == "yes")
        return queryset


@admin.register(KpiDefinition)
class KpiDefinitionAdmin(SimpleHistoryAdmin):
    """Definitions under change control: saves and reverts go through kpis.services with the editor and a reason."""

    form = KpiDefinitionForm
    list_display = [
        "slug", "name", "dimension", "weight", "target", "critical_threshold", "units", "visibility", "status",
        "owner", "next_review_due", "review_overdue",
    ]
    list_filter = ["dimension", "visibility", "status", ReviewOverdueFilter, "owner"]
    search_fields = ["slug", "name", "description", "owner_role"]
    list_select_related = ["owner"]
    actions = ["mark_reviewed"]
    object_history_list_template = "admin/kpis/kpidefinition/change_log.html"
    fieldsets = [
        (None, {"fields": ["slug", "name", "description", "formula", "units", "direction", "data_sources"]}),
        ("Targets", {"fields": ["target", "critical_threshold", "targets", "target_schedule", "breach_after"]}),
        ("Scoring", {"fields": ["dimension", "weight"]}),
        ("Prometheus", {"fields": ["promql", "prometheus", "prometheus_collection_status"]}),
        ("SLO", {"fields": ["slo_objective", "slo_period_days", "sli_good_promql", "sli_total_promql"]}),
        (
            "Governance",
            {"fields": ["status", "visibility", "owner", "owner_role", "review_cadence", "last_reviewed_at", "next_review_due", "retention_class"]},
        ),
    ]
    change_control_fieldset = ("Change control", {"fields": ["change_reason"]})

    def get_queryset(self, request):
        # The queryset's own rule of what is due, so the list, its filter and the reminders agree.
        overdue = KpiDefinition.objects.due_for_review(timezone.localdate()).filter(pk=OuterRef("pk"))
        return super().get_queryset(request).annotate(is_review_overdue=Exists(overdue))

    @admin.display(boolean=True, description="Review overdue", ordering="is_review_overdue")
    def review_overdue(self, kpi):
        return kpi.is_review_overdue

    def get_fieldsets(self, request, obj=None):
        if obj is not None and not self.has_change_permission(request, obj):
            return self.fieldsets
        return [*self.fieldsets, self.change_control_fieldset]

    @admin.display(description="Collection")
    def prometheus_collection_status(self, kpi):
        """How the hourly collection went last, with the response it last kept (kpis.prometheus)."""
        collection = PrometheusCollection.objects.filter(kpi=kpi).select_related("last_event").first() if kpi.pk else None
        if collection is None:
            return "Not collected yet." if kpi.prometheus_id else "Not collected: no Prometheus is chosen."
        lines = [f"Last success: {_when(collection.last_success_at)}."]
        if collection.consecutive_failures:
            lines.append(f"Failing: {collection.consecutive_failures} failure(s) in a row.")
        if collection.last_error_at:
            lines.append(f"Last error at {_when(collection.last_error_at)}: {collection.last_error}")
        status = format_html_join("", "{}<br>", ((line,) for line in lines))
        event = collection.last_event
        if event is None:
            return status
        link = reverse("admin:connectors_sourceevent_change", args=[event.pk])
        detail = f": {event.detail}" if event.detail else ""
        return format_html('{}Last response: <a href="{}">{}</a> ({}{})', status, link, event.delivery_id,
                           event.get_status_display().lower(), detail)

    def get_readonly_fields(self, request, obj=None):
        readonly = ["last_reviewed_at", "next_review_due", "prometheus_collection_status"]
        if obj is not None:
            readonly.append("slug")
        if not request.user.is_superuser:
            readonly.append("owner")
        return readonly

    def has_change_permission(self, request, obj=None):
        allowed = super().has_change_permission(request, obj)
        if obj is None or not allowed:
            return allowed
        return may_change_definition(request.user, obj)

    def has_delete_permission(self, request, obj=None):
        # Definitions are retired, never deleted: observations and the audit trail refer to them.
        return False

    def has_review_permission(self, request):
        return request.user.has_perm("kpis.add_kpireview")

    def save_model(self, request, obj, form, change):
        reason = form.cleaned_data["change_reason"]
        fields = {name: value for name, value in form.cleaned_data.items() if name in EDITABLE_FIELDS}
        if change:
            stored = KpiDefinition.objects.get(pk=obj.pk)
            outcome = services.propose_change(stored, actor=request.user, reason=reason, **fields)
        else:
            outcome = services.add_definition(actor=request.user, reason=reason, **fields)
            obj.pk = outcome.kpi.pk
            obj._state.adding = False
        obj.refresh_from_db()
        obj.new_proposal = outcome.proposal

    def response_change(self, request, obj):
        proposal = getattr(obj, "new_proposal", None)
        if proposal is None:
            return super().response_change(request, obj)
        self.message_user(request, _proposal_message(proposal, "change"), messages.WARNING)
        return redirect(reverse("admin:kpis_kpidefinition_change", args=[obj.pk]))

    def response_add(self, request, obj, post_url_continue=None):
        proposal = getattr(obj, "new_proposal", None)
        if proposal is None:
            return super().response_add(request, obj, post_url_continue)
        self.message_user(request, f"Added {obj.slug} as a draft. " + _proposal_message(proposal, "change"), messages.WARNING)
        return redirect(reverse("admin:kpis_kpidefinition_change", args=[obj.pk]))

    def change_view(self, request, object_id, form_url="", extra_context=None):
        kpi = self.get_object(request, unquote(object_id))
        pending = kpi.proposals.open().select_related("author").first() if kpi else None
        return super().change_view(request, object_id, form_url, extra_context={"pending_proposal": pending, **(extra_context or {})})

    def history_view(self, request, object_id, extra_context=None):
        kpi = self.get_object(request, unquote(object_id))
        context = {"change_log": list(reversed(change_log(kpi))) if kpi else []}
        return super().history_view(request, object_id, extra_context={**context, **(extra_context or {})})

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        """One version of a definition: who, when, why, what a revert would change, and the revert with its reason."""
        kpi = self.get_object(request, unquote(object_id))
        if kpi is None:
            raise Http404(f"No KPI definition with id {object_id}.")
        if not self.has_view_or_change_permission(request, kpi):
            raise PermissionDenied
        entry = next((entry for entry in change_log(kpi) if str(entry.history_id) == str(version_id)), None)
        if entry is None:
            raise Http404(f"{version_id} is not a version of '{kpi.slug}'.")
        may_revert = self.has_change_permission(request, kpi)
        form = RevertForm(request.POST if request.method == "POST" else None)
        if request.method == "POST":
            if not may_revert:
                raise PermissionDenied
            if form.is_valid():
                try:
                    outcome = services.revert_definition(kpi, entry.history_id, actor=request.user, reason=form.cleaned_data["change_reason"])
                except ValidationError as error:
                    form.add_error(None, error.messages)
                else:
                    if outcome.proposal is None:
                        self.message_user(request, f"{kpi.slug} was reverted to version {entry.version}.", messages.SUCCESS)
                    else:
                        self.message_user(request, _proposal_message(outcome.proposal, "revert"), messages.WARNING)
                    return redirect(reverse("admin:kpis_kpidefinition_history", args=[kpi.pk]))
        context = {
            **self.admin_site.each_context(request),
            "title": f"{kpi.slug}: version {entry.version}",
            "opts": self.model._meta,
            "object": kpi,
            "entry": entry,
            "revert_changes": revert_preview(kpi, entry.history_id),
            "may_revert": may_revert,
            "form": form,
            **(extra_context or {}),
        }
        return TemplateResponse(request, "admin/kpis/kpidefinition/version.html", context)

    @admin.action(description="Mark reviewed", permissions=["review"])
    def mark_reviewed(self, request, queryset):
        reviewable = [kpi for kpi in queryset.select_related("owner") if may_change_definition(request.user, kpi)]
        if not reviewable:
            self.message_user(request, "You may review only the definitions you own; none was selected.", messages.ERROR)
            return None
        form = MarkReviewedForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            for kpi in reviewable:
                services.record_review(kpi, reviewer=request.user, **form.cleaned_data)
            self.message_user(request, f"Recorded the review of {', '.join(kpi.slug for kpi in reviewable)}.", messages.SUCCESS)
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": "Mark reviewed",
            "opts": self.model._meta,
            "definitions": reviewable,
            "skipped": queryset.count() - len(reviewable),
            "form": form,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/kpis/kpidefinition/mark_reviewed.html", context)


def _when(moment):
    return f"{timezone.localtime(moment):%Y-%m-%d %H:%M %Z}" if moment else "never"


def _proposal_message(proposal, what):
    return (
        f"The {what} of {', '.join(proposal.changes)} of {proposal.kpi.slug} is proposal #{proposal.pk}: it is not in "
        "force until a KPI approver other than you approves it. Fields that need no approval were saved."
    )


@admin.register(HistoricalKpiDefinition)
class HistoricalKpiDefinitionAdmin(ReadOnlyAdmin):
    list_display = ["slug", "history_date", "history_type", "history_user", "history_change_reason"]
    list_filter = ["history_type", "history_date"]
    search_fields = ["slug", "history_change_reason"]
    list_select_related = ["history_user"]
    date_hierarchy = "history_date"


@admin.register(KpiReview)
class KpiReviewAdmin(ReadOnlyAdmin):
    """Reviews are recorded by the "Mark reviewed" action on definitions, which also moves the next review."""

    list_display = ["kpi", "reviewer", "reviewed_at", "outcome"]
    list_filter = ["outcome", "reviewed_at"]
    search_fields = ["kpi__slug", "notes"]
    list_select_related = ["kpi", "reviewer"]


@admin.register(Observation)
class ObservationAdmin(ReadOnlyAdmin):
    """Observations are append-only and carry their own provenance (source, run, computed at)."""

    list_display = ["kpi", "company", "domain", "service", "incident", "observed_at", "value", "source", "confidence", "run"]
    # Rows and the company filter are of the user's companies (visible_to, TenantListFilter).
    list_filter = ["source", "kpi__dimension", ("company", TenantListFilter), "kpi"]
    search_fields = ["kpi__slug", "run"]
    list_select_related = ["kpi", "company", "domain", "service", "incident"]
    date_hierarchy = "observed_at"
    ordering = ["-observed_at", "-id"]
    # Millions of rows: no full COUNT(*) on every page.
    show_full_result_count = False

    def get_queryset(self, request):
        return super().get_queryset(request).visible_to(request.user)


@admin.register(ReviewReminder)
class ReviewReminderAdmin(ReadOnlyAdmin):
    list_display = ["recipient", "sent_on", "sent_at"]
    list_select_related = ["recipient"]


class ProposalStatusFilter(admin.SimpleListFilter):
    """Pending proposals unless another status is chosen, so the list opens on what awaits a decision."""

    title = "status"
    parameter_name = "status"
    ALL = "all"

    def lookups(self, request, model_admin):
        return [*ProposalStatus.choices, (self.ALL, "All")]

    def value(self):
        return super().value() or ProposalStatus.OPEN

    def choices(self, changelist):
        for lookup, title in self.lookup_choices:
            yield {
                "selected": self.value() == lookup,
                "query_string": changelist.get_query_string({self.parameter_name: lookup}),
                "display": title,
            }

    def queryset(self, request, queryset):
        return queryset if self.value() == self.ALL else queryset.filter(status=self.value())


class EmergencySelfApprovalFilter(admin.SimpleListFilter):
    title = "emergency self-approval"
    parameter_name = "emergency"

    def lookups(self, request, model_admin):
        return [("yes", "Emergency self-approvals")]

    def queryset(self, request, queryset):
        return queryset.emergency_self_approvals() if self.value() == "yes" else queryset


@admin.register(KpiChangeProposal)
class KpiChangeProposalAdmin(ProposalDecisionActions, ReadOnlyAdmin):
    """Pending proposals with their diffs; KPI approvers approve or reject them with a comment."""

    decision_form = ProposalDecisionForm
    approve_effect = "Approving puts each change in force now, as one history entry naming its author and you."
    reject_effect = "Rejecting leaves each definition as it is."

    list_display = [
        "number", "kpi", "status", "author", "created_at", "reason", "diff", "decided_by", "decided_at",
        "emergency_self_approval",
    ]
    list_filter = [ProposalStatusFilter, EmergencySelfApprovalFilter]
    list_select_related = ["kpi", "author", "decided_by"]
    search_fields = ["kpi__slug", "reason", "decision_comment", "emergency_reason"]
    fields = [
        "kpi", "status", "author", "created_at", "reason", "diff", "base_history_id", "decided_by", "decided_at",
        "decision_comment", "emergency_reason", "applied_history_id",
    ]
    readonly_fields = fields

    @admin.display(boolean=True, description="Emergency self-approval")
    def emergency_self_approval(self, proposal):
        return proposal.is_emergency_self_approval

    def has_decide_permission(self, request):
        return request.user.has_perm("kpis.change_kpichangeproposal") and may_decide_proposals(request.user)

    def label(self, proposal):
        return f"proposal #{proposal.pk} ({proposal.kpi.slug})"

    def decide(self, proposal, decision, user, cleaned_data):
        if decision == "approve":
            services.approve_proposal(proposal, approver=user, **cleaned_data)
        else:
            services.reject_proposal(proposal, approver=user, comment=cleaned_data["comment"])
