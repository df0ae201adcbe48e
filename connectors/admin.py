from django import forms
from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from companyos.admin import ReadOnlyAdmin, change_reason_field
from tenancy.admin_scoping import CompanyScopedAdmin

from . import services
from .models import Integration, ServiceLink, SourceEvent


class IntegrationForm(forms.ModelForm):
    """The integration's fields, a write-only secret, and the reason every change carries."""

    url = forms.URLField(
        required=False, assume_scheme="http", help_text="Prometheus: the server's base URL, e.g. http://prometheus:9090."
    )
    new_secret = forms.CharField(
        label="Secret",
        required=False,
        widget=forms.PasswordInput(render_value=False),
        help_text="Webhooks: the signing secret. Prometheus: an optional bearer token. Leave empty to keep the "
        "current one; it is never shown.",
    )
    change_reason = change_reason_field()

    class Meta:
        model = Integration
        fields = ["kind", "name", "company", "url", "active"]

    def _post_clean(self):
        # The model's clean() checks the secret a webhook needs: give it the new one first.
        if self.cleaned_data.get("new_secret"):
            self.instance.secret = self.cleaned_data["new_secret"]
        super()._post_clean()


class ServiceLinkInline(admin.TabularInline):
    model = ServiceLink
    extra = 0
    autocomplete_fields = ["service"]


@admin.register(Integration)
class IntegrationAdmin(CompanyScopedAdmin, SimpleHistoryAdmin):
    form = IntegrationForm
    list_display = ["name", "kind", "company", "url", "active", "secret_set_at"]
    list_filter = ["kind", "active"]
    search_fields = ["name", "company__slug"]
    readonly_fields = ["secret_set_at"]
    inlines = [ServiceLinkInline]

    def save_model(self, request, obj, form, change):
        services.save_integration(
            obj, actor=request.user, reason=form.cleaned_data["change_reason"], secret=form.cleaned_data["new_secret"]
        )


@admin.register(SourceEvent)
class SourceEventAdmin(CompanyScopedAdmin, ReadOnlyAdmin):
    list_display = ["received_at", "source", "event_type", "delivery_id", "company", "status"]
    list_filter = ["source", "status", "company"]
    search_fields = ["delivery_id", "event_type", "detail"]
    date_hierarchy = "received_at"
    list_select_related = ["company"]
