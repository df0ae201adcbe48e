from django.http import StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.renderers import JSONRenderer
from rest_framework.views import APIView

from companyos.api.dates import day_param
from companyos.api.renderers import CSVRenderer, StreamsItsOwnBody
from kpis.api.serializers import ChangeLogEntrySerializer
from scoring.audit_export import CONTENT_TYPES, audit_entries, audit_period, export_chunks, file_name, may_export_audit


class AuditExportView(StreamsItsOwnBody, APIView):
    """
    The audit export of `kpi audit-export`, byte for byte: every definition change and proposal event in the period,
    and every dimension weights version and weights proposal event. Auditors and superusers; streamed.
    """

    renderer_classes = [JSONRenderer, CSVRenderer]

    @extend_schema(
        parameters=[
            OpenApiParameter("since", OpenApiTypes.DATE, required=True, description="First day of the period."),
            OpenApiParameter("until", OpenApiTypes.DATE, description="Last day of the period, included; default no end."),
            OpenApiParameter("format", str, enum=["csv", "json"], description="Default csv."),
        ],
        responses={(200, "text/csv"): OpenApiTypes.STR, (200, "application/json"): ChangeLogEntrySerializer(many=True)},
    )
    def get(self, request):
        if not may_export_audit(request.user):
            raise PermissionDenied("The audit export is for auditors.")
        params = request.query_params
        since, until = day_param(params, "since"), day_param(params, "until")
        if since is None:
            raise ValidationError({"since": ["Give the first day of the period, e.g. 2024-01-01."]})
        try:
            start, end = audit_period(since, until)
        except ValueError as error:
            raise ValidationError({"until": [str(error)]}) from None
        format = "json" if params.get("format") == "json" else "csv"
        response = StreamingHttpResponse(export_chunks(audit_entries(start, end), format), content_type=CONTENT_TYPES[format])
        response["Content-Disposition"] = f'attachment; filename="{file_name(since, until, format)}"'
        return response
