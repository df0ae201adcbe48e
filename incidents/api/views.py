from drf_spectacular.utils import extend_schema
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from incidents.models import Incident
from kpis.api.serializers import ObservationSerializer
from kpis.models import Observation

from .serializers import IncidentSerializer


class IncidentViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = IncidentSerializer
    filterset_fields = ["severity", "status", "automation_used"]
    ordering_fields = ["detected_at", "resolved_at"]

    def get_queryset(self):
        return Incident.objects.select_related("company", "service").order_by("-detected_at", "-id")

    @extend_schema(responses=ObservationSerializer(many=True))
    @action(detail=True, methods=["get"], pagination_class=None)
    def kpis(self, request, pk=None):
        """The observations of this incident that the caller may see."""
        incident = self.get_object()
        observations = (
            Observation.objects.visible_to(request.user)
            .filter(incident=incident)
            .select_related("kpi", "company", "domain", "service")
            .order_by("kpi__slug", "observed_at")
        )
        return Response(ObservationSerializer(observations, many=True).data)
