"""The admin's approve and reject actions of a proposals list: the definitions' proposals and the weights'."""
import json

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import PermissionDenied, ValidationError
from django.template.response import TemplateResponse
from django.utils.html import format_html, format_html_join
from django.utils.text import capfirst

from .choices import ProposalStatus


def proposal_diff(proposal):
    """The proposal's changes as an HTML list of field: old -> new."""
    return format_html(
        "<ul>{}</ul>",
        format_html_join(
            "",
            "<li><strong>{}</strong>: {} &rarr; {}</li>",
            ((name, _shown(change["old"]), _shown(change["new"])) for name, change in proposal.changes.items()),
        ),
    )


def _shown(value):
    if value is None:
        return "(empty)"
    return json.dumps(value, sort_keys=True) if isinstance(value, (dict, list)) else value


class ProposalDecisionActions:
    """
    A proposals list's number and diff columns, and approve and reject as admin actions: one page lists the selected
    open proposals with their diffs and asks for the decision's comment, then each is decided through the app's
    service. A subclass sets `decision_form`, `approve_effect` and `reject_effect` (what the page says each does) and
    implements `label(proposal)` and `decide(proposal, decision, user, cleaned_data)`.
    """

    decision_form = None
    approve_effect = ""
    reject_effect = ""
    actions = ["approve", "reject"]

    @admin.display(description="Proposal", ordering="pk")
    def number(self, proposal):
        return f"#{proposal.pk}"

    @admin.display(description="Changes (old → new)")
    def diff(self, proposal):
        return proposal_diff(proposal)

    @admin.action(description="Approve selected proposals", permissions=["decide"])
    def approve(self, request, queryset):
        return self._decide(request, queryset, "approve")

    @admin.action(description="Reject selected proposals", permissions=["decide"])
    def reject(self, request, queryset):
        return self._decide(request, queryset, "reject")

    def _decide(self, request, queryset, decision):
        pending = list(queryset.filter(status=ProposalStatus.OPEN).select_related("author"))
        if not pending:
            self.message_user(request, "None of the selected proposals is pending.", messages.ERROR)
            return None
        form = self.decision_form(request.POST if "apply" in request.POST else None)
        if not form.is_valid():
            context = {
                **self.admin_site.each_context(request),
                "title": f"{decision.capitalize()} {self.model._meta.verbose_name_plural}",
                "opts": self.model._meta,
                "proposals": [(capfirst(self.label(proposal)), proposal, self.diff(proposal)) for proposal in pending],
                "effect": self.approve_effect if decision == "approve" else self.reject_effect,
                "decision": decision,
                "form": form,
                "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            }
            return TemplateResponse(request, "admin/proposal_decide.html", context)
        verb = "Approved" if decision == "approve" else "Rejected"
        for proposal in pending:
            try:
                self.decide(proposal, decision, request.user, form.cleaned_data)
            except (ValidationError, PermissionDenied) as refused:
                reason = " ".join(refused.messages) if isinstance(refused, ValidationError) else str(refused)
                self.message_user(request, f"{capfirst(self.label(proposal))}: {reason}", messages.ERROR)
            else:
                self.message_user(request, f"{verb} {self.label(proposal)}.", messages.SUCCESS)
        return None
