from django import forms
from django.core.exceptions import ValidationError

from .periods import MAX_PERIOD_DAYS, period_between


class ReportRequestForm(forms.Form):
    """A period of whole UTC days, first and last included, up to a year."""

    start = forms.DateField(label="First day", widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label="Last day", widget=forms.DateInput(attrs={"type": "date"}),
                          help_text=f"At most {MAX_PERIOD_DAYS} days after the first.")

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("start") and cleaned.get("end"):
            try:
                cleaned["period"] = period_between(cleaned["start"], cleaned["end"])
            except ValidationError as refused:
                self.add_error("start", refused.message_dict["start"])
        return cleaned
