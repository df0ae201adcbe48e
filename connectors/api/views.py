import logging
import urllib.parse

from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, viewsets
from rest_framework.permissions import DjangoModelPermissions
from rest_framework.response import Response
from rest_framework.views import APIView

from companyos.api.filters import UtcDateTimeFilter
from companyos.api.parsers import JsonTooDeep, load_json
from connectors.models import Integration, SourceEvent
from tenancy.access import in_visible_companies

from .serializers import ReceivedSerializer, SourceEventSerializer

logger = logging.getLogger(__name__)

FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"


class ViewPermissions(DjangoModelPermissions):
    """Reading needs the model's view permission (auditors hold it), not just a login."""

    perms_map = {**DjangoModelPermissions.perms_map, "GET": ["%(app_label)s.view_%(model_name)s"]}


class SourceEventFilter(filters.FilterSet):
    since = UtcDateTimeFilter(field_name="received_at", lookup_expr="gte", help_text="Received at or after, ISO 8601.")
    until = UtcDateTimeFilter(field_name="received_at", lookup_expr="lt", help_text="Received before, ISO 8601.")
    company = filters.CharFilter(field_name="company__slug", help_text="The company's slug.")

    class Meta:
        model = SourceEvent
        fields = ["source", "status", "event_type", "company", "since", "until"]


class SourceEventViewSet(viewsets.ReadOnlyModelViewSet):
    """
    Every payload received for the caller's companies, as received, with what it produced: the trail from an
    observation to its source. Payloads of several companies (a shared Prometheus) only for those who see every company.
    """

    queryset = SourceEvent.objects.none()
    serializer_class = SourceEventSerializer
    permission_classes = [*viewsets.ReadOnlyModelViewSet.permission_classes, ViewPermissions]
    filterset_class = SourceEventFilter

    def get_queryset(self):
        return in_visible_companies(SourceEvent.objects.all(), self.request.user).select_related("company", "received_by")


class SignedWebhookView(APIView):
    """
    Base of the webhooks a tool signs. The signature over the raw body, with the secret of the active
    integration named in the URL, authenticates the delivery: no session or token. A missing or wrong
    signature is a 401 and is logged. Subclasses set `kind`, `signature_header` and `signature_valid`,
    and implement `deliver(request, integration, payload)`.
    """

    authentication_classes = []
    permission_classes = []
    kind = None
    signature_header = None
    signature_valid = None  # a staticmethod (secret, body, header) -> bool, from connectors.signatures

    def get_authenticate_header(self, request):
        return f'HMAC-SHA256 header="{self.signature_header}"'

    def authenticated_integration(self, request, integration_id):
        integration = Integration.objects.filter(pk=integration_id, kind=self.kind, active=True).first()
        header = request.headers.get(self.signature_header, "")
        if integration is None or not self.signature_valid(integration.secret, request.body, header):
            logger.warning(
                "Refused a %s delivery to integration %s from %s: %s",
                self.kind, integration_id, request.META.get("REMOTE_ADDR"),
                "no such active integration" if integration is None else f"{self.signature_header} does not match",
            )
            raise exceptions.AuthenticationFailed(
                f"{self.signature_header}: the signature does not match an active {self.kind} integration {integration_id}."
            )
        return integration

    @extend_schema(request=dict, responses={200: ReceivedSerializer})
    def post(self, request, integration_id):
        integration = self.authenticated_integration(request, integration_id)
        try:
            payload = load_json(self.json_body(request))
        except JsonTooDeep as error:
            raise exceptions.ValidationError({"body": [str(error)]}) from None
        except ValueError as error:  # not JSON, or not UTF-8
            raise exceptions.ValidationError({"body": [f"The body is not JSON: {error}"]}) from None
        if not isinstance(payload, dict):
            raise exceptions.ValidationError({"body": ["The body is a JSON object."]})
        # A handler's ValidationError becomes a 400 naming the field (companyos.api.exceptions).
        return Response(ReceivedSerializer(self.deliver(request, integration, payload)).data)

    @staticmethod
    def json_body(request):
        """
        The JSON the body carries: the body itself, or, as `application/x-www-form-urlencoded` (GitHub's default
        content type), its `payload` field. The signature is over the body as sent either way.
        """
        if request.content_type != FORM_CONTENT_TYPE:
            return request.body
        try:
            fields = urllib.parse.parse_qs(request.body.decode(), strict_parsing=True, errors="strict")
        except (UnicodeError, ValueError) as error:
            raise exceptions.ValidationError({"body": [f"The form body cannot be read: {error}"]}) from None
        if len(fields.get("payload", [])) != 1:
            raise exceptions.ValidationError({"payload": ["A form-encoded delivery carries its JSON in one 'payload' field."]})
        return fields["payload"][0].encode()

    def deliver(self, request, integration, payload):
        raise NotImplementedError
