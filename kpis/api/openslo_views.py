"""The definitions' SLOs as OpenSLO v1 YAML (`GET /api/openslo/`), and their import through change control (`POST`)."""
import dataclasses

from drf_spectacular.utils import extend_schema
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from companyos.api.exceptions import Conflict
from kpis import openslo, services
from kpis.models import KpiDefinition
from kpis.permissions import may_change_definition
from kpis.roles import KPI_OWNERS, group_names

from .serializers import OpenSloExportSerializer, OpenSloImportOutcomeSerializer, OpenSloImportSerializer


class OpenSloView(APIView):
    """
    GET: the SLOs of the definitions the caller may see as OpenSLO v1 YAML (`document`: one `kind: SLO` each).
    POST (KPI owners): import such YAML as `document` (an export posted back changes nothing). A definition that
    exists changes as any edit does (on an active one the SLO's fields become a proposal a KPI approver decides;
    only its owner may change it), a new one is created as a draft the importer owns; all or nothing. A bad
    document is a 400 naming the field within it, e.g. `document.spec.objectives[0].target`.
    """

    @extend_schema(responses=OpenSloExportSerializer)
    def get(self, request):
        definitions = KpiDefinition.objects.visible_to(request.user)
        return Response({"document": openslo.export_slos(definitions)})

    @extend_schema(request=OpenSloImportSerializer, responses=OpenSloImportOutcomeSerializer(many=True))
    def post(self, request):
        user = request.user
        if not (user.is_superuser or KPI_OWNERS in group_names(user)):
            raise PermissionDenied("Only KPI owners import SLOs.")
        body = OpenSloImportSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            outcomes = openslo.import_slos(
                body.validated_data["document"],
                actor=user,
                reason=body.validated_data["change_reason"],
                may_change=lambda kpi: may_change_definition(user, kpi),
            )
        except services.ProposalConflict as conflict:
            raise Conflict(conflict.messages[0]) from conflict
        except openslo.OpenSloError as refused:
            # Named within the request's `document`: "document.spec.objectives[0].target".
            errors = refused.message_dict
            raise ValidationError({"document": errors["document"] if "document" in errors else errors}) from None
        return Response([dataclasses.asdict(outcome) for outcome in outcomes])
