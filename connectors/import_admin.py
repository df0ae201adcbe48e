"""
The admin side of CSV imports: imported rows are read-only, and their "add" page is the upload form,
which goes through connectors.csv_import like the API and lists every bad line when a file is refused.
"""
from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html

from companyos.admin import ReadOnlyAdmin
from tenancy.access import writable_companies
from tenancy.admin_scoping import CompanyScopedAdmin
from tenancy.models import Company

from .csv_import import KINDS, import_csv, rows_applied
from .services import read_upload


class CsvUploadForm(forms.Form):
    kind = forms.ChoiceField(label="Import")
    # The user's companies (set per user in __init__).
    company = forms.ModelChoiceField(Company.objects.none(), help_text="The company whose data the file holds.")
    file = forms.FileField(help_text="A UTF-8 CSV file with a header row; columns not listed below are ignored.")

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = [(kind.name, kind.label) for kind in KINDS.values()]
        self.fields["company"].queryset = writable_companies(user)


def line_messages(error):
    """A refused upload's errors for the admin page, one `<where>: <message>` each (`line <n>: <column>` for a CSV cell)."""
    if not hasattr(error, "error_dict"):
        return error.messages
    return [f"{where}: {message}" for where, found in error.message_dict.items() for message in found]


class CsvImportAdmin(CompanyScopedAdmin, ReadOnlyAdmin):
    """
    Read-only imported rows of the CSV import `import_kind` (of the user's companies); "add" uploads a file of any
    kind, this one first, for one of the user's companies.
    """

    import_kind = None
    change_list_template = "admin/csv_import/change_list.html"

    def has_add_permission(self, request):
        return request.user.has_perm(KINDS[self.import_kind].add_permission)

    @admin.display(description="Uploaded file")
    def source_file(self, row):
        url = reverse("admin:connectors_sourceevent_change", args=[row.source_event_id])
        return format_html('<a href="{}">event #{}</a>', url, row.source_event_id)

    def add_view(self, request, form_url="", extra_context=None):
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = CsvUploadForm(request.POST or None, request.FILES or None, initial={"kind": self.import_kind}, user=request.user)
        if request.method == "POST" and form.is_valid():
            kind = KINDS[form.cleaned_data["kind"]]
            if not request.user.has_perm(kind.add_permission):
                raise PermissionDenied
            company = form.cleaned_data["company"]
            try:
                received = import_csv(kind.name, company, read_upload(form.cleaned_data["file"]), user=request.user)
            except ValidationError as error:
                form.add_error(None, line_messages(error))
            else:
                if received.created:
                    self.message_user(
                        request, f"Imported {rows_applied(received)} rows of {kind.label.lower()} for {company} "
                        f"(source event #{received.event.pk}).", messages.SUCCESS,
                    )
                else:
                    self.message_user(
                        request, f"This file was imported for {company} before (source event #{received.event.pk}); "
                        "nothing changed.", messages.WARNING,
                    )
                opts = kind.model._meta
                return redirect(reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"))
        context = {
            **self.admin_site.each_context(request),
            "title": "Import a CSV file",
            "opts": self.model._meta,
            "form": form,
            "kinds": KINDS.values(),
            **(extra_context or {}),
        }
        return TemplateResponse(request, "admin/csv_import/upload.html", context)
