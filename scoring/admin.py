"""
Admin: the dimension weights change by proposal (four eyes: KPI approvers approve or reject pending proposals from
their list); snapshots and breaches are read-only evidence.
"""
from django import forms
from django.contrib import admin, messages
from django.shortcuts import redirect
from django.urls import path, reverse
from simple_history.admin import SimpleHistoryAdmin

from companyos.admin import ReadOnlyAdmin, change_reason_field
from kpis.admin import ProposalStatusFilter
from kpis.permissions import may_decide_proposals
from kpis.proposal_decisions import ProposalDecisionActions
from tenancy.admin_scoping import CompanyScopedAdmin

from .audit_export_admin import audit_export_view
from .models import SCORED_DIMENSIONS, Breach, DimensionWeights, DimensionWeightsProposal, ScoreSnapshot
from .weights import approve_weights_proposal, open_proposal_conflict, propose_weights, reject_weights_proposal

DIMENSION_FIELDS = [dimension.value for dimension in SCORED_DIMENSIONS]


class DimensionWeightsForm(forms.ModelForm):
    """The five weights (bounds and total checked by the model) and the reason the proposal carries."""

    change_reason = change_reason_field()

    class Meta:
        model = DimensionWeights
        fields = DIMENSION_FIELDS

    def clean(self):
        cleaned = super().clean()
        # Against the weights in force, not the form's initial values (a revert starts from an old version).
        in_force = DimensionWeights.objects.get(pk=1)
        if all(cleaned.get(name) == getattr(in_force, name) for name in DIMENSION_FIELDS):
            self.add_error(None, "Nothing to propose: these are the weights in force.")
        conflict = open_proposal_conflict()
        if conflict:
            self.add_error(None, conflict.messages)
        return cleaned


@admin.register(DimensionWeights)
class DimensionWeightsAdmin(SimpleHistoryAdmin):
    """Saving proposes the weights; they change only when a KPI approver other than the author approves."""

    form = DimensionWeightsForm
    list_display = ["__str__", "updated_at"]

    def get_urls(self):
        # The audit export covers the weights and the definitions; its download lives beside the weights.
        export = path("audit-export/", self.admin_site.admin_view(lambda request: audit_export_view(self, request)), name="scoring_audit_export")
        return [export, *super().get_urls()]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        weights = {name: form.cleaned_data[name] for name in DIMENSION_FIELDS}
        obj.new_proposal = propose_weights(actor=request.user, reason=form.cleaned_data["change_reason"], **weights)
        obj.refresh_from_db()

    def response_change(self, request, obj):
        proposal = obj.new_proposal
        changed = ", ".join(name for name, _ in proposal.ordered_changes())
        self.message_user(
            request,
            f"The change of {changed} is weights proposal #{proposal.pk}: the weights in force stay as they are until "
            "a KPI approver other than you approves it.",
            messages.WARNING,
        )
        return redirect(reverse("admin:scoring_dimensionweightsproposal_change", args=[proposal.pk]))


class WeightsDecisionForm(forms.Form):
    """The intermediate page of approving or rejecting weights proposals."""

    comment = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2, "cols": 80}),
        help_text="Required. Recorded with the decision and e-mailed to the author.",
    )


@admin.register(DimensionWeightsProposal)
class DimensionWeightsProposalAdmin(ProposalDecisionActions, ReadOnlyAdmin):
    """Pending weights proposals with their diffs; KPI approvers other than the author approve or reject them."""

    decision_form = WeightsDecisionForm
    approve_effect = "Approving puts the weights in force now, as one history entry naming its author and you."
    reject_effect = "Rejecting leaves the weights as they are."

    list_display = ["number", "status", "author", "created_at", "reason", "diff", "decided_by", "decided_at"]
    list_filter = [ProposalStatusFilter]
    list_select_related = ["author", "decided_by"]
    search_fields = ["reason", "decision_comment"]
    fields = [
        "status", "author", "created_at", "reason", "diff", "base_history_id", "decided_by", "decided_at",
        "decision_comment", "applied_history_id",
    ]
    readonly_fields = fields

    def has_decide_permission(self, request):
        return request.user.has_perm("scoring.change_dimensionweightsproposal") and may_decide_proposals(request.user)

    def label(self, proposal):
        return f"weights proposal #{proposal.pk}"

    def decide(self, proposal, decision, user, cleaned_data):
        decide = approve_weights_proposal if decision == "approve" else reject_weights_proposal
        decide(proposal, approver=user, comment=cleaned_data["comment"])


@admin.register(ScoreSnapshot)
class ScoreSnapshotAdmin(CompanyScopedAdmin, ReadOnlyAdmin):
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
class BreachAdmin(CompanyScopedAdmin, ReadOnlyAdmin):
    list_display = [
        "kpi", "company", "domain", "service", "started_at", "opened_at", "closed_at", "worst_value", "current_value",
        "notified_at",
    ]
    list_filter = [OpenFilter, "kpi", "company"]
    list_select_related = ["kpi", "company", "domain__company", "service__domain__company"]
    date_hierarchy = "opened_at"
