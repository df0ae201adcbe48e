"""What GitHub reported, read-only: each row links to the delivery it came from."""
from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html

from companyos.admin import ReadOnlyAdmin
from tenancy.admin_scoping import CompanyScopedAdmin

from .models import BuildRun, Change, Deployment


class GitHubRowAdmin(CompanyScopedAdmin, ReadOnlyAdmin):
    list_select_related = ["service__domain__company"]
    list_filter = ["company"]
    readonly_fields = ["source_event_link"]

    @admin.display(description="Source event")
    def source_event_link(self, row):
        url = reverse("admin:connectors_sourceevent_change", args=[row.source_event_id])
        return format_html('<a href="{}">{}</a>', url, row.source_event_id)


@admin.register(Change)
class ChangeAdmin(GitHubRowAdmin):
    list_display = ["merged_at", "repository", "pull_request", "sha", "service", "first_commit_at", "source_event_link"]
    search_fields = ["repository", "sha", "title"]
    date_hierarchy = "merged_at"


@admin.register(Deployment)
class DeploymentAdmin(GitHubRowAdmin):
    list_display = ["created_at", "repository", "deployment_id", "environment", "production", "state", "finished_at",
                    "service", "source_event_link"]
    list_filter = ["company", "production", "state"]
    search_fields = ["repository", "sha", "environment"]
    date_hierarchy = "created_at"


@admin.register(BuildRun)
class BuildRunAdmin(GitHubRowAdmin):
    list_display = ["completed_at", "repository", "name", "kind", "head_branch", "conclusion", "service",
                    "source_event_link"]
    list_filter = ["company", "kind", "conclusion"]
    search_fields = ["repository", "head_sha", "name"]
    date_hierarchy = "completed_at"
