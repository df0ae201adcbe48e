from django.core.exceptions import ValidationError as DjangoValidationError
from django.urls import reverse
from rest_framework import serializers

from companyos.api.dates import day_refusal
from companyos.api.fields import RefusesUnknownFields

from ..models import Report
from ..periods import period_between, read_month


class ReportSerializer(serializers.ModelSerializer):
    """A stored report's description and where to download it; the PDF and HTML themselves are separate downloads."""

    company = serializers.CharField(source="company.slug")
    requested_by = serializers.SerializerMethodField()
    pdf_url = serializers.SerializerMethodField()
    html_url = serializers.SerializerMethodField()

    class Meta:
        model = Report
        fields = ["id", "company", "period_start", "period_end", "kind", "audience", "created_at", "requested_by",
                  "pdf_url", "html_url", "sources"]

    def get_requested_by(self, report) -> str | None:
        return report.requested_by.get_username() if report.requested_by else None

    def get_pdf_url(self, report) -> str:
        return reverse("report-pdf", args=[report.pk])

    def get_html_url(self, report) -> str:
        return reverse("report-html", args=[report.pk])


def _supported_day(day):
    refusal = day_refusal(day)
    if refusal:
        raise serializers.ValidationError(refusal)
    return day


class ReportRequestSerializer(RefusesUnknownFields, serializers.Serializer):
    """A company and a period: a `month` (YYYY-MM), or a `start` and `end` day (both included, up to a year)."""

    company = serializers.CharField()
    month = serializers.CharField(required=False)
    start = serializers.DateField(required=False, validators=[_supported_day])
    end = serializers.DateField(required=False, validators=[_supported_day])

    def validate(self, data):
        month, start, end = data.get("month"), data.get("start"), data.get("end")
        try:
            if month and (start or end):
                raise serializers.ValidationError({"month": "Give a month or a start and an end, not both."})
            if month:
                data["period"] = read_month(month)
            elif start and end:
                data["period"] = period_between(start, end)
            else:
                missing = "end" if start else "start"
                raise serializers.ValidationError({missing: "Give a month, or a start and an end day."})
        except DjangoValidationError as refused:
            raise serializers.ValidationError(refused.message_dict) from None
        return data
