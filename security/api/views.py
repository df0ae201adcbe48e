import datetime

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.exceptions import ValidationError
from rest_framework.parsers import MultiPartParser
from rest_framework.views import APIView

from companyos.api.dates import read_moment
from companyos.api.permissions import IngestPermission
from connectors.api.serializers import ReceivedSerializer
from connectors.api.uploads import RawBodyParser, received_response, uploaded_content
from security import patch_states, services
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
            # A form naming company, service and scanned_at is still read; the documented way, for either body, is
            # the query, so a client generated from the schema sends them alike.
            "multipart/form-data": {
                "type": "object", "properties": {"file": {"type": "string", "format": "binary"}}, "required": ["file"],
            },
        },
        parameters=[
            OpenApiParameter("company", str, required=True, description="The company's slug, e.g. comp-acme."),
            OpenApiParameter("service", str, required=True, description="The service's slug, or <domain>/<service>."),
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


def _instance_state_schema():
    counts = {key: {"type": "integer", "minimum": 0} for key in patch_states.COUNTS}
    return {
        "type": "object",
        "properties": {
            "InstanceId": {"type": "string"},
            "PatchGroup": {"type": "string"},
            **counts,
            "OperationEndTime": {"oneOf": [{"type": "string", "format": "date-time"}, {"type": "number"}]},
        },
        "required": ["InstanceId", "OperationEndTime", *sorted(set(patch_states.COUNTS) - patch_states.OPTIONAL_COUNTS)],
    }


# The answer of ssm.describe_instance_patch_states as AWS returns it (the fields read; the others are kept as sent).
PATCH_STATES_SCHEMA = {
    "type": "object",
    "properties": {
        "InstancePatchStates": {"type": "array", "items": _instance_state_schema(), "minItems": 1},
        "NextToken": {"type": "string", "nullable": True, "description": "Must be absent or empty: send every page in one body."},
    },
    "required": ["InstancePatchStates"],
}


class PatchStatesUploadView(APIView):
    """
    Upload AWS Systems Manager Patch Manager's instance patch states of one company (`company` in the query or the
    form): the JSON answer of `ssm.describe_instance_patch_states`, {"InstancePatchStates": [...]}, as the body
    (application/json) or the multipart field `file`, every page in one. It is recorded as one patch scan, per
    instance, as of the newest OperationEndTime. The same body again changes nothing (`redelivery`).
    """

    permission_classes = [*APIView.permission_classes, IngestPermission]
    parser_classes = [RawJSONParser, MultiPartParser]
    ingest_permission = patch_states.UPLOAD_PERMISSION

    @extend_schema(
        request={
            "application/json": PATCH_STATES_SCHEMA,
            "multipart/form-data": {
                "type": "object",
                "properties": {"file": {"type": "string", "format": "binary"}, "company": {"type": "string"}},
                "required": ["file"],
            },
        },
        parameters=[OpenApiParameter("company", str, description="The company's slug, e.g. comp-acme.")],
        responses={
            201: OpenApiResponse(ReceivedSerializer, description="A new answer, recorded as a patch scan."),
            200: OpenApiResponse(ReceivedSerializer, description="The same answer again: a redelivery that changed nothing."),
        },
    )
    def post(self, request):
        content = uploaded_content(request)
        fields = request.query_params if isinstance(request.data, bytes) else {**request.query_params.dict(), **request.data.dict()}
        company = writable_company(request.user, fields.get("company"))
        return received_response(ReceivedSerializer, patch_states.apply_patch_states(company, content, user=request.user))
