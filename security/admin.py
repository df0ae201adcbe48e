"""
The scanners' findings in the admin: read-only lists of vulnerabilities, committed secrets and applied
reports, and an upload page that applies a report through security.services like the API does.
"""
from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse

from companyos.admin import ReadOnlyAdmin
from connectors.choices import EventStatus
from connectors.import_admin import line_messages
from connectors.services import read_upload
from tenancy.access import in_writable_companies
from tenancy.admin_scoping import CompanyScopedAdmin
from tenancy.models import Service

from . import services
from .choices import Scanner
from .models import InstancePatchState, PatchScan, ScanReport, SecretFinding, Vulnerability
from .querysets import remediation_due_at


class ReportUploadForm(forms.Form):
    scanner = forms.ChoiceField(choices=Scanner.choices)
    # The services of the user's companies (set per user in __init__).
    service = forms.ModelChoiceField(queryset=Service.objects.none())
    file = forms.FileField(help_text="Trivy: trivy --format json. Snyk: snyk test --json. Gitleaks: --report-format json.")
    scanned_at = forms.DateTimeField(
        required=False, help_text="Optional (UTC). Default: the report's own time (Trivy's CreatedAt), else now."
    )

    def __init__(self, *args, scanners, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["scanner"].choices = [(scanner.value, scanner.label) for scanner in scanners]
        services = Service.objects.select_related("domain__company")
        self.fields["service"].queryset = in_writable_companies(services, user, via="domain__company")


def upload_scanners(user):
    """The scanners whose reports `user` may upload."""
    return [scanner for scanner in Scanner if user.has_perm(services.UPLOAD_PERMISSIONS[scanner])]


class UploadLinkAdmin(CompanyScopedAdmin, ReadOnlyAdmin):
    """A read-only list (of the user's companies) with a link to the upload page for whoever may upload reports."""

    company_path = "service__domain__company"

    change_list_template = "admin/security/change_list_with_upload.html"

    def changelist_view(self, request, extra_context=None):
        return super().changelist_view(request, {"may_upload": bool(upload_scanners(request.user)), **(extra_context or {})})


class OpenFilter(admin.SimpleListFilter):
    """Open or fixed (resolved): whether the latest report of the service still lists it."""

    title = "status"
    parameter_name = "status"
    closed_field = None  # fixed_at or resolved_at

    def lookups(self, request, model_admin):
        return [("open", "Open"), ("closed", "Fixed" if self.closed_field == "fixed_at" else "Resolved")]

    def queryset(self, request, queryset):
        if self.value() in ("open", "closed"):
            return queryset.filter(**{f"{self.closed_field}__isnull": self.value() == "open"})
        return queryset


class VulnerabilityStatusFilter(OpenFilter):
    closed_field = "fixed_at"


class SecretStatusFilter(OpenFilter):
    closed_field = "resolved_at"


@admin.register(Vulnerability)
class VulnerabilityAdmin(UploadLinkAdmin):
    """Vulnerabilities change only through uploaded reports (the upload page is linked from the list)."""

    list_display = [
        "vulnerability_id", "package", "installed_version", "fixed_version", "severity", "service", "scanner",
        "first_seen_at", "due_at", "fixed_at",
    ]
    list_filter = ["severity", VulnerabilityStatusFilter, "scanner", "service__domain__company", "service"]
    search_fields = ["vulnerability_id", "aliases", "package", "title"]
    list_select_related = ["service__domain__company"]
    date_hierarchy = "first_seen_at"

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(due_at=remediation_due_at())

    @admin.display(description="Remediation due", ordering="due_at")
    def due_at(self, vulnerability):
        return vulnerability.due_at

    def get_urls(self):
        upload = path("upload/", self.admin_site.admin_view(self.upload_view), name="security_vulnerability_upload")
        return [upload, *super().get_urls()]

    def upload_view(self, request):
        """Apply an uploaded Trivy, Snyk or Gitleaks report to a service, as the API's upload does."""
        scanners = upload_scanners(request.user)
        if not scanners:
            raise PermissionDenied
        form = ReportUploadForm(request.POST or None, request.FILES or None, scanners=scanners, user=request.user)
        if request.method == "POST" and form.is_valid():
            scanner, service = Scanner(form.cleaned_data["scanner"]), form.cleaned_data["service"]
            scanned_at = form.cleaned_data["scanned_at"]
            try:
                received = services.apply_report(
                    service, scanner, read_upload(form.cleaned_data["file"]), scanned_at=scanned_at, user=request.user
                )
            except ValidationError as error:
                form.add_error(None, line_messages(error))
            else:
                self.message_user(request, _upload_message(scanner, service, received), messages.SUCCESS)
                model = "secretfinding" if scanner == Scanner.GITLEAKS else "vulnerability"
                return redirect(f"{reverse(f'admin:security_{model}_changelist')}?service__id__exact={service.pk}")
        context = {
            **self.admin_site.each_context(request),
            "title": "Upload a scan report",
            "opts": self.model._meta,
            "form": form,
        }
        return TemplateResponse(request, "admin/security/vulnerability/upload.html", context)


def _upload_message(scanner, service, received):
    event = received.event
    if not received.created:
        return f"This {scanner.label} report of {service} was uploaded before (event {event.pk}); nothing changed."
    if event.status != EventStatus.PROCESSED:
        return f"{scanner.label} report of {service} (event {event.pk}): {event.detail}"
    outcomes = event.produced.get("security.vulnerability") or event.produced.get("security.secretfinding")
    summary = ", ".join(f"{len(keys)} {outcome}" for outcome, keys in outcomes.items())
    return f"{scanner.label} report of {service} applied (event {event.pk}): {summary}."


@admin.register(SecretFinding)
class SecretFindingAdmin(UploadLinkAdmin):
    """Committed secrets, redacted; they change only through uploaded Gitleaks reports."""

    list_display = ["rule_id", "file", "line", "short_commit", "service", "found_at", "detected_at", "resolved_at", "match"]
    list_filter = [SecretStatusFilter, "rule_id", "service__domain__company", "service"]
    search_fields = ["rule_id", "file", "commit", "fingerprint"]
    list_select_related = ["service__domain__company"]
    date_hierarchy = "detected_at"

    @admin.display(description="Commit", ordering="commit")
    def short_commit(self, finding):
        return finding.commit[:12]


@admin.register(ScanReport)
class ScanReportAdmin(CompanyScopedAdmin, ReadOnlyAdmin):
    company_path = "service__domain__company"
    list_display = ["scanned_at", "scanner", "service", "findings", "source_event"]
    list_filter = ["scanner", "service__domain__company", "service"]
    list_select_related = ["service__domain__company", "source_event"]
    date_hierarchy = "scanned_at"


class InstancePatchStateInline(admin.TabularInline):
    model = InstancePatchState
    fields = ["instance_id", "patch_group", "installed_count", "missing_count", "failed_count", "critical_non_compliant_count", "operation_end_time"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(PatchScan)
class PatchScanAdmin(CompanyScopedAdmin, ReadOnlyAdmin):
    """Uploaded Patch Manager instance patch states (POST /api/patch-states/), one scan per answer, read-only."""

    list_display = ["scanned_at", "company", "source_event"]
    list_filter = ["company"]
    list_select_related = ["company", "source_event"]
    date_hierarchy = "scanned_at"
    inlines = [InstancePatchStateInline]
