"""The admin's download of the audit export (scoring.audit_export): the same bytes as `kpi audit-export` and the API."""
from django import forms
from django.core.exceptions import PermissionDenied
from django.http import StreamingHttpResponse
from django.template.response import TemplateResponse

from companyos.api.dates import read_day

from .audit_export import CONTENT_TYPES, audit_entries, audit_period, export_chunks, file_name, may_export_audit


class AuditExportForm(forms.Form):
    since = forms.CharField(help_text="First day of the period (YYYY-MM-DD).")
    until = forms.CharField(required=False, help_text="Last day of the period, included (YYYY-MM-DD); empty: no end.")
    format = forms.ChoiceField(choices=[("csv", "CSV"), ("json", "JSON")], initial="csv")

    def _day(self, name):
        text = self.cleaned_data[name]
        if not text:
            return None
        try:
            return read_day(text)
        except ValueError as error:
            raise forms.ValidationError(str(error)) from None

    def clean_since(self):
        return self._day("since")

    def clean_until(self):
        return self._day("until")

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("since") and cleaned.get("until") and cleaned["until"] < cleaned["since"]:
            self.add_error("until", "until must not be before since.")
        return cleaned


def audit_export_view(model_admin, request):
    """The form (GET without parameters) and, once filled in, the export streamed as a download."""
    if not may_export_audit(request.user):
        raise PermissionDenied
    form = AuditExportForm(request.GET or None)
    if form.is_valid():
        since, until, format = (form.cleaned_data[name] for name in ("since", "until", "format"))
        response = StreamingHttpResponse(export_chunks(audit_entries(*audit_period(since, until)), format), content_type=CONTENT_TYPES[format])
        response["Content-Disposition"] = f'attachment; filename="{file_name(since, until, format)}"'
        return response
    context = {
        **model_admin.admin_site.each_context(request),
        "title": "Audit export",
        "opts": model_admin.model._meta,
        "form": form,
    }
    return TemplateResponse(request, "admin/scoring/audit_export.html", context)
