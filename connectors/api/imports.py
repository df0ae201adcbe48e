"""`POST /api/imports/<kind>/?company=<slug>`: a CSV export uploaded as a text/csv body or a multipart `file`."""
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.parsers import BaseParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from companyos.api.permissions import IngestPermission
from connectors.csv_import import KINDS, MAX_UPLOAD_BYTES, import_csv, rows_applied
from incidents.models import Company

from .serializers import ReceivedSerializer


class CsvBodyParser(BaseParser):
    """A text/csv body, as bytes (one byte over the limit is enough to refuse it)."""

    media_type = "text/csv"

    def parse(self, stream, media_type=None, parser_context=None):
        return stream.read(MAX_UPLOAD_BYTES + 1) if stream is not None else b""


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
        company = self._company(request)
        received = import_csv(self.kind, company, self._content(request), user=request.user)
        return Response(
            ImportResultSerializer(received).data, status=status.HTTP_201_CREATED if received.created else status.HTTP_200_OK
        )

    def _company(self, request):
        slug = request.query_params.get("company", "")
        company = Company.objects.filter(slug=slug).first() if slug and "\x00" not in slug else None
        if company is None:
            raise ValidationError({"company": [f"No company has the slug '{slug}'." if slug else "Name the company: ?company=<slug>."]})
        return company

    def _content(self, request):
        if request.content_type.startswith("multipart/"):
            if "file" not in request.FILES:
                raise ValidationError({"file": ["Send the CSV file as the multipart field 'file'."]})
            content = request.FILES["file"].read(MAX_UPLOAD_BYTES + 1)
        else:
            # An empty text/csv body is not parsed at all: no data.
            content = request.data if isinstance(request.data, bytes) else b""
        if not content:
            raise ValidationError({"file": ["The file is empty."]})
        return content
