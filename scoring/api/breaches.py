"""`GET /api/breaches/`: a company's breaches with their worst and current values, of the KPIs the caller may see."""
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.generics import ListAPIView

from kpis.models import KpiDefinition
from tenancy.access import visible_company

from ..models import Breach

STATES = ("open", "all")


class BreachSerializer(serializers.ModelSerializer):
    kpi = serializers.CharField(source="kpi.slug")
    kpi_name = serializers.CharField(source="kpi.name")
    units = serializers.CharField(source="kpi.units")
    scope = serializers.SerializerMethodField(help_text='"company", "<domain>" or "<domain>/<service>".')

    class Meta:
        model = Breach
        fields = [
            "id", "kpi", "kpi_name", "units", "scope", "started_at", "opened_at", "closed_at", "critical_threshold",
            "worst_value", "current_value", "current_at", "notified_at",
        ]

    def get_scope(self, breach) -> str:
        if breach.service:
            return f"{breach.service.domain.slug}/{breach.service.slug}"
        return breach.domain.slug if breach.domain else "company"


@extend_schema(
    parameters=[
        OpenApiParameter("company", str, required=True, description="The company's slug, e.g. comp-acme."),
        OpenApiParameter("state", OpenApiTypes.STR, enum=list(STATES), description="open (default) or all."),
    ]
)
class BreachListView(ListAPIView):
    """
    The breaches of one company, newest first: open ones (default) or all. Each has the worst value while it was
    open and its current value (the latest while open, the one that closed it after).
    """

    serializer_class = BreachSerializer
    filter_backends = []

    def get_queryset(self):
        params = self.request.query_params
        state = params.get("state") or "open"
        if state not in STATES:
            raise ValidationError({"state": f"'{state}' is not a state; use one of {', '.join(STATES)}."})
        company = visible_company(self.request.user, params.get("company"))
        breaches = Breach.objects.filter(company=company, kpi__in=KpiDefinition.objects.visible_to(self.request.user))
        if state == "open":
            breaches = breaches.filter(closed_at__isnull=True)
        return breaches.select_related("kpi", "domain", "service__domain").order_by("-opened_at", "-id")
