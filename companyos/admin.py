"""Admin building blocks shared by the apps."""
from django import forms
from django.contrib import admin


class ReadOnlyAdmin(admin.ModelAdmin):
    """Records kept for audit or computed by the system: viewable by whoever may view them, never added,
    changed or deleted through the admin."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


def change_reason_field():
    """The required reason every save and revert of a change-controlled record carries into its history."""
    return forms.CharField(
        label="Reason for this change",
        widget=forms.Textarea(attrs={"rows": 2, "cols": 80}),
        help_text="Required. Recorded in the history with your name and the time.",
    )
