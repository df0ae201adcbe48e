import datetime

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.exceptions import ValidationError
from rest_framework.parsers import MultiPartParser
from rest_framework.views import APIView

from companyos.api.dates import read_moment
from companyos.api.permissions import IngestPermission
from connectors.api.uploads import RawBodyParser, received_response, uploaded_content
from security import services
from tenancy.access import writable_company

from .serializers import ScanReceivedSerializer


class RawJSONParser(RawBodyParser):
    """The report is parsed by the scanner's parser, which names the position of an error."""

    media_type = "application/json"


class ScanUploadView(APIView):
    """
    Upload one scanner report of a service: the JSON report as the body (application/json) or as the
    multipart field `file`. The service is named by `company` and `service` (`<service>` or
    `<domain>/<service>`) in the query or the form; `scanned_at` (ISO 8601) overrides the scan time.
    The report is the service's full current state for the scanner; the answer says what it opened,
    reopened, fixed and left unchanged. The same file again changes nothing (`redelivery`).
    """

    permission_classes = [*APIView.permission_classes, IngestPermission]
    parser_classes = [RawJSONParser, MultiPartParser]
    scanner = None  # set by the URL conf

    @property
    def ingest_permission(self):
        return services.UPLOAD_PERMISSIONS[self.scanner]

    @extend_schema(
        request={
            "application/json": OpenApiTypes.ANY,
            "multipart/form-data": {
                "type": "object",
                "properties": {
                    "file": {"type": "string", "format": "binary"},
                    "company": {"type": "string"},
                    "service": {"type": "string"},
                    "scanned_at": {"type": "string", "format": "date-time"},
                },
                "required": ["file"],
            },
        },
        parameters=[
            OpenApiParameter("company", str, description="The company's slug, e.g. comp-acme."),
            OpenApiParameter("service", str, description="The service's slug, or <domain>/<service>."),
            OpenApiParameter("scanned_at", OpenApiTypes.DATETIME, description="The scan time; default the report's own, else now."),
        ],
        responses={
            201: OpenApiResponse(ScanReceivedSerializer, description="A new report, applied or ignored (the detail says why)."),
            200: OpenApiResponse(ScanReceivedSerializer, description="The same file again: a redelivery that changed nothing."),
        },
    )
    def post(self, request):
        content = uploaded_content(request)
        # A multipart upload may name the service in its form fields too.
        fields = request.query_params if isinstance(request.data, bytes) else {**request.query_params.dict(), **request.data.dict()}
        company = writable_company(request.user, fields.get("company"))
        service = services.service_named(company, fields.get("service"))
        received = services.apply_report(
            service, self.scanner, content, scanned_at=_scanned_at(fields.get("scanned_at")), user=request.user
        )
        return received_response(ScanReceivedSerializer, received)


def _scanned_at(value):
    """The `scanned_at` parameter as a UTC time (companyos.api.dates: with its offset, within the supported years)."""
    if not value:
        return None
    try:
        return read_moment(value).astimezone(datetime.timezone.utc)
    except ValueError as error:
        raise ValidationError({"scanned_at": [str(error)]}) from None
