"""`POST /api/imports/<kind>/?company=<slug>`: a CSV export uploaded as a text/csv body or a multipart `file`."""
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.parsers import MultiPartParser
from rest_framework.views import APIView

from companyos.api.permissions import IngestPermission
from connectors.csv_import import KINDS, import_csv, rows_applied
from tenancy.access import writable_company

from .serializers import ReceivedSerializer
from .uploads import RawBodyParser, received_response, uploaded_content


class CsvBodyParser(RawBodyParser):
    media_type = "text/csv"


class ImportResultSerializer(ReceivedSerializer):
    """The event keeping the file, what it produced, and the rows this upload wrote (0 for a file imported before)."""

    rows_applied = serializers.SerializerMethodField()

    def get_rows_applied(self, received) -> int:
        return rows_applied(received)


class CsvImportSchema(AutoSchema):
    """The view's description followed by its kind's file format."""

    def get_description(self):
        return f"{super().get_description()}\n\n{KINDS[self.view.kind].help_text}"


class CsvImportView(APIView):
    """
    Import one CSV file for the company `?company=<slug>`: all rows or none (a 400 lists every bad line and
    column, line 1 being the header), once (the same file again changes nothing and answers 200), kept as a
    source event. Needs a token whose user may add the imported rows (the Data sources group).
    """

    schema = CsvImportSchema()
    permission_classes = [*APIView.permission_classes, IngestPermission]
    parser_classes = [CsvBodyParser, MultiPartParser]
    kind = None  # set by the URL: a name registered in connectors.csv_import

    @property
    def ingest_permission(self):
        return KINDS[self.kind].add_permission

    @extend_schema(
        parameters=[OpenApiParameter("company", OpenApiTypes.STR, required=True, description="The company's slug.")],
        request={
            "text/csv": OpenApiTypes.BINARY,
            "multipart/form-data": {
                "type": "object", "properties": {"file": {"type": "string", "format": "binary"}}, "required": ["file"],
            },
        },
        responses={201: ImportResultSerializer, 200: ImportResultSerializer},
    )
    def post(self, request):
        company = writable_company(request.user, request.query_params.get("company"))
        received = import_csv(self.kind, company, uploaded_content(request), user=request.user)
        return received_response(ImportResultSerializer, received)
