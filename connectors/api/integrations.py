"""
Prometheus integrations over the API: those of the caller's companies read (auditors too), one added by a
member of the company holding `connectors.add_integration`, its connection tested by one holding
`connectors.change_integration`. The token is write-only: it is never shown again.
"""
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response

from companyos.api.fields import RefusesUnknownFields
from connectors.choices import IntegrationKind
from connectors.models import Integration
from connectors.prometheus import PrometheusError, check_connection
from connectors.services import add_prometheus
from tenancy.access import in_visible_companies, in_writable_companies, writable_company

from .views import ViewPermissions


class PrometheusIntegrationSerializer(serializers.ModelSerializer):
    company = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    has_token = serializers.SerializerMethodField()

    class Meta:
        model = Integration
        fields = ["id", "name", "company", "url", "active", "has_token", "secret_set_at"]
        read_only_fields = fields

    def get_has_token(self, integration) -> bool:
        return bool(integration.secret)


class PrometheusIntegrationInSerializer(RefusesUnknownFields, serializers.Serializer):
    company = serializers.CharField(max_length=64, help_text="The slug of the company it serves (one of yours).")
    name = serializers.CharField(max_length=200)
    url = serializers.URLField(max_length=200, help_text="The server's base URL, e.g. http://prometheus:9090.")
    token = serializers.CharField(
        max_length=512, required=False, allow_blank=True, write_only=True,
        help_text="The bearer token the server (or the proxy in front of it) wants, if any. Never shown again.",
    )
    change_reason = serializers.CharField(help_text="Why it is added (kept in its history).")


class ConnectionTestSerializer(serializers.Serializer):
    ok = serializers.BooleanField()
    detail = serializers.CharField(help_text="What Prometheus answered to vector(1), or why it could not be asked.")


class PrometheusIntegrationViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """The Prometheus servers KPIs are collected from, of the caller's companies."""

    serializer_class = PrometheusIntegrationSerializer
    permission_classes = [*viewsets.ReadOnlyModelViewSet.permission_classes, ViewPermissions]
    queryset = Integration.objects.none()
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        integrations = Integration.objects.filter(kind=IntegrationKind.PROMETHEUS).select_related("company")
        return in_visible_companies(integrations, self.request.user)

    @extend_schema(request=PrometheusIntegrationInSerializer, responses={201: PrometheusIntegrationSerializer})
    def create(self, request):
        fields = PrometheusIntegrationInSerializer(data=request.data)
        fields.is_valid(raise_exception=True)
        fields = dict(fields.validated_data)
        integration = add_prometheus(
            company=writable_company(request.user, fields.pop("company")), name=fields["name"], url=fields["url"],
            token=fields.get("token", ""), actor=request.user, reason=fields["change_reason"],
        )
        return Response(PrometheusIntegrationSerializer(integration).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={200: ConnectionTestSerializer})
    @action(detail=True, methods=["post"])
    def test(self, request, pk=None):
        """Ask the server `vector(1)`: ok and its answer, or not ok and why (unreachable, token refused, ...)."""
        if not request.user.has_perm("connectors.change_integration"):
            raise PermissionDenied("Testing a connection needs the permission to change integrations.")
        integration = self.get_object()
        if not in_writable_companies(Integration.objects.filter(pk=integration.pk), request.user).exists():
            raise PermissionDenied("Testing a connection needs a membership of its company.")
        try:
            return Response({"ok": True, "detail": check_connection(integration)})
        except PrometheusError as error:
            return Response({"ok": False, "detail": str(error)})
