from django.db import transaction
from django.http import Http404
from drf_spectacular.utils import extend_schema
from rest_framework import filters, generics, mixins, viewsets
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response

from companyos.api.pagination import ObservationCursorPagination
from kpis import services
from kpis.models import KpiDefinition, Observation
from kpis.permissions import may_change_definition

from .filtersets import KpiDefinitionFilterSet, ObservationFilterSet
from .serializers import KpiDefinitionChangeSerializer, KpiDefinitionSerializer, ObservationSerializer


class KpiDefinitionViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The KPI definitions the caller may see; internal KPIs only for the internal roles."""

    serializer_class = KpiDefinitionSerializer
    filterset_class = KpiDefinitionFilterSet
    filter_backends = [*viewsets.GenericViewSet.filter_backends, filters.SearchFilter]
    search_fields = ["slug", "name", "description"]
    ordering_fields = ["slug", "name", "dimension", "next_review_due"]
    lookup_field = "slug"
    lookup_value_regex = "[^/]+"

    def get_queryset(self):
        return KpiDefinition.objects.visible_to(self.request.user).select_related("owner").order_by("slug")

    def get_object(self):
        slug = self.kwargs["slug"]
        kpi = self.get_queryset().filter(slug=slug).first()
        if kpi is None:
            # The same answer for a missing and for a hidden KPI, so visibility leaks nothing.
            raise Http404(f"No KPI definition has the slug '{slug}'.")
        return kpi

    @extend_schema(request=KpiDefinitionChangeSerializer, responses=KpiDefinitionSerializer)
    def partial_update(self, request, slug=None):
        kpi = self.get_object()
        if not may_change_definition(request.user, kpi):
            raise PermissionDenied(f"Only the owner of '{kpi.slug}' or a superuser may change it.")
        change = KpiDefinitionChangeSerializer(kpi, data=request.data, partial=True)
        change.is_valid(raise_exception=True)
        fields = dict(change.validated_data)
        reason = fields.pop("change_reason")
        with transaction.atomic():
            kpi = services.change_definition(kpi, actor=request.user, reason=reason, **fields)
        return Response(KpiDefinitionSerializer(kpi).data)


class KpiObservationListView(generics.ListAPIView):
    """The observations of one KPI, oldest first, cursor-paginated; filter by period and scope."""

    serializer_class = ObservationSerializer
    filterset_class = ObservationFilterSet
    pagination_class = ObservationCursorPagination
    ordering_fields = ["observed_at"]
    queryset = Observation.objects.none()

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return self.queryset
        slug = self.kwargs["slug"]
        kpi = KpiDefinition.objects.visible_to(self.request.user).filter(slug=slug).first()
        if kpi is None:
            raise Http404(f"No KPI definition has the slug '{slug}'.")
        return Observation.objects.filter(kpi=kpi).select_related("kpi", "company", "domain", "service")
