from django.http import Http404, StreamingHttpResponse
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import filters, generics, mixins, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from companyos.api.dates import MAX_PERIOD_DAYS, period_param
from companyos.api.exceptions import Conflict
from companyos.api.pagination import ObservationCursorPagination
from companyos.api.payloads import rows_of, validated_rows
from companyos.api.permissions import IngestPermission
from companyos.api.renderers import CSVRenderer, StreamsItsOwnBody, stream_csv
from incidents.models import Incident
from tenancy.access import in_visible_companies, in_writable_companies, visible_company, writable_companies
from tenancy.models import Domain, Service
from kpis import observations as observation_services
from kpis import proof, services
from kpis.history import change_log
from kpis.models import KpiChangeProposal, KpiDefinition, Observation
from kpis.permissions import may_change_definition, may_read_history

from .filtersets import KpiChangeProposalFilterSet, KpiDefinitionFilterSet, ObservationFilterSet
from .serializers import (
    ChangeLogEntrySerializer,
    KpiChangeProposalSerializer,
    KpiDefinitionChangeSerializer,
    KpiDefinitionSerializer,
    ObservationIngestResultSerializer,
    ObservationInSerializer,
    ObservationSerializer,
    ProposalApprovalSerializer,
    ProposalRejectionSerializer,
)


def _proposal_conflict_as_409(write):
    """Run `write`; a clash with an open or decided proposal answers 409 with the service's message."""
    try:
        return write()
    except services.ProposalConflict as conflict:
        raise Conflict(conflict.messages[0]) from conflict


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

    def _requested_change(self, request, kpi):
        """The validated fields and reason of a change `request.user` may make to `kpi`."""
        if not may_change_definition(request.user, kpi):
            raise PermissionDenied(f"Only the owner of '{kpi.slug}' or a superuser may change it.")
        change = KpiDefinitionChangeSerializer(kpi, data=request.data, partial=True)
        change.is_valid(raise_exception=True)
        fields = dict(change.validated_data)
        return fields.pop("change_reason"), fields

    @extend_schema(
        request=KpiDefinitionChangeSerializer,
        responses={200: KpiDefinitionSerializer, 202: KpiChangeProposalSerializer},
        description=(
            "Change a definition. On an active definition, changes to formula, units, direction, target, "
            "critical_threshold, targets, target_schedule, breach_after, dimension, weight, visibility, status or the SLO "
            "(slo_objective, slo_period_days, sli_good_promql, sli_total_promql) become a proposal "
            "(202, the proposal) that a KPI approver must approve; so does making a draft or retired definition active, "
            "with the score-moving fields changed along. The other fields apply at once (200, the definition). "
            "Bounds: weight 0-100, target and critical_threshold within ±1e12, breach_after 0 to 90 days; an SLO's four "
            "fields together or none, slo_objective strictly between 0 and 100 (percent), slo_period_days 1 to 365."
        ),
    )
    def partial_update(self, request, slug=None):
        kpi = self.get_object()
        reason, fields = self._requested_change(request, kpi)
        outcome = _proposal_conflict_as_409(lambda: services.propose_change(kpi, actor=request.user, reason=reason, **fields))
        if outcome.proposal is not None:
            return Response(KpiChangeProposalSerializer(outcome.proposal).data, status=202)
        return Response(KpiDefinitionSerializer(outcome.kpi).data)

    @extend_schema(methods=["GET"], responses=KpiChangeProposalSerializer(many=True))
    @extend_schema(methods=["POST"], request=KpiDefinitionChangeSerializer, responses={201: KpiChangeProposalSerializer})
    @action(detail=True, methods=["get", "post"], pagination_class=None, filterset_class=None)
    def proposals(self, request, slug=None):
        """The definition's change proposals, newest first; POST proposes changes to its score-moving fields."""
        kpi = self.get_object()
        if request.method == "POST":
            reason, fields = self._requested_change(request, kpi)
            proposal = _proposal_conflict_as_409(lambda: services.submit_proposal(kpi, actor=request.user, reason=reason, **fields))
            return Response(KpiChangeProposalSerializer(proposal).data, status=201)
        if not may_read_history(request.user):
            raise PermissionDenied("Proposals are for KPI owners, approvers and auditors.")
        proposals = kpi.proposals.select_related("kpi", "author", "decided_by")
        return Response(KpiChangeProposalSerializer(proposals, many=True).data)

    @extend_schema(responses={200: ChangeLogEntrySerializer(many=True)})
    @action(detail=True, methods=["get"], pagination_class=None, filterset_class=None)
    def history(self, request, slug=None):
        """Every version of the definition, oldest first: who, when, why and each changed field's old and new value."""
        kpi = self.get_object()
        if not may_read_history(request.user):
            raise PermissionDenied("The change history is for KPI owners and auditors.")
        return Response([entry.as_dict() for entry in change_log(kpi)])


class KpiChangeProposalViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """
    Change proposals of every definition (filter `status=open` for those awaiting a decision), newest first,
    for KPI owners, approvers and auditors; approve and reject are for KPI approvers other than the author.
    """

    serializer_class = KpiChangeProposalSerializer
    filterset_class = KpiChangeProposalFilterSet
    ordering_fields = ["created_at", "decided_at"]
    lookup_value_regex = r"[0-9]+"
    queryset = KpiChangeProposal.objects.none()

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return self.queryset
        if not may_read_history(self.request.user):
            raise PermissionDenied("Proposals are for KPI owners, approvers and auditors.")
        return KpiChangeProposal.objects.select_related("kpi", "author", "decided_by").order_by("-created_at", "-id")

    def get_object(self):
        proposal = self.get_queryset().filter(pk=self.kwargs["pk"]).first()
        if proposal is None:
            raise Http404(f"No proposal has the id {self.kwargs['pk']}.")
        return proposal

    @extend_schema(request=ProposalApprovalSerializer, responses=KpiChangeProposalSerializer)
    @action(detail=True, methods=["post"], filterset_class=None)
    def approve(self, request, pk=None):
        """Put the proposal in force as one history entry naming its author and the approver."""
        return self._decide(request, ProposalApprovalSerializer, services.approve_proposal)

    @extend_schema(request=ProposalRejectionSerializer, responses=KpiChangeProposalSerializer)
    @action(detail=True, methods=["post"], filterset_class=None)
    def reject(self, request, pk=None):
        """Close the proposal; the definition stays as it is."""
        return self._decide(request, ProposalRejectionSerializer, services.reject_proposal)

    def _decide(self, request, serializer_class, decide):
        proposal = self.get_object()
        decision = serializer_class(data=request.data)
        decision.is_valid(raise_exception=True)
        proposal = _proposal_conflict_as_409(
            lambda: decide(proposal, approver=request.user, **decision.validated_data)
        )
        return Response(KpiChangeProposalSerializer(proposal).data)


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
        return Observation.objects.visible_to(self.request.user).filter(kpi=kpi).select_related("kpi", "company", "domain", "service")


class IncidentObservationListView(generics.ListAPIView):
    """The observations of one incident that the caller may see, by KPI and time."""

    serializer_class = ObservationSerializer
    pagination_class = None
    filter_backends = []
    queryset = Observation.objects.none()

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return self.queryset
        incident = get_object_or_404(in_visible_companies(Incident.objects.all(), self.request.user), pk=self.kwargs["incident_id"])
        return (
            Observation.objects.visible_to(self.request.user)
            .filter(incident=incident)
            .select_related("kpi", "company", "domain", "service")
            .order_by("kpi__slug", "observed_at")
        )


class KpiMetricsView(StreamsItsOwnBody, APIView):
    """
    The alert-methodology KPIs of one company with their proof (the seed's payload, field for field).
    `format=csv` streams the alerts and incidents counted, for verification. `until` (ISO 8601, default
    now) fixes the end of the period so a figure can be reproduced.
    """

    renderer_classes = [JSONRenderer, CSVRenderer]

    @extend_schema(
        parameters=[
            OpenApiParameter("company_id", str, required=True, description="The company's slug, e.g. comp-acme."),
            OpenApiParameter(
                "timeRange", str, description=f"<n>h or <n>d, at most {MAX_PERIOD_DAYS}d; default 24h. Not with start."
            ),
            OpenApiParameter("start", str, description="Start of the period instead of timeRange: a date or an ISO 8601 time."),
            OpenApiParameter("end", str, description="End of the period: a date (included) or an ISO 8601 time; default now."),
            OpenApiParameter("until", str, description="The older name of end."),
        ],
        responses={200: OpenApiTypes.OBJECT},
    )
    def get(self, request):
        params = request.query_params
        company = visible_company(request.user, params.get("company_id") or params.get("company"), field="company_id")
        # Every parameter is checked here, before a CSV's 200 is sent: nothing can fail once rows stream.
        period = period_param(params)
        if request.accepted_renderer.format == "csv":
            rows = proof.evidence_rows(company, period=period)
            response = StreamingHttpResponse(stream_csv(proof.EVIDENCE_COLUMNS, rows), content_type="text/csv")
            name = period.label if "/" not in period.label else f"{period.start:%Y%m%dT%H%M%SZ}-{period.end:%Y%m%dT%H%M%SZ}"
            response["Content-Disposition"] = f'attachment; filename="{company.slug}-kpi-evidence-{name}.csv"'
            return response
        visible = KpiDefinition.objects.visible_to(request.user).values_list("slug", flat=True)
        return Response(proof.kpi_metrics(company, period=period, visible_slugs=list(visible)))


def _resolve_scopes(rows, user):
    """
    Company, domain and service slugs of validated rows as ids, within the companies `user` writes into; an unknown
    one, a service outside the row's domain, or an incident of another company than the row's, is refused naming
    the row and field.
    """
    companies = writable_companies(user).filter(slug__in={row["company"] for row in rows if "company" in row})
    company_ids = dict(companies.values_list("slug", "pk"))
    domain_ids = {(company, slug): pk for pk, company, slug in Domain.objects.filter(company__in=company_ids.values()).values_list("pk", "company_id", "slug")}
    services = list(Service.objects.filter(domain__company__in=company_ids.values()).values_list("pk", "domain__company_id", "slug", "domain_id"))
    service_ids = {(company, slug): pk for pk, company, slug, _ in services}
    service_domains = {pk: domain for pk, _, _, domain in services}
    incidents = Incident.objects.filter(pk__in={row["incident"] for row in rows if "incident" in row})
    incident_companies = dict(in_writable_companies(incidents, user).values_list("pk", "company_id"))
    resolved = []
    for index, row in enumerate(rows):
        row = dict(row)
        if "company" in row:
            company = row["company"] = company_ids.get(row["company"])
            if company is None:
                raise ValidationError({index: {"company": f"No company has the slug '{rows[index]['company']}'."}})
            for field, ids in (("domain", domain_ids), ("service", service_ids)):
                if field in row:
                    slug = row[field]
                    row[field] = ids.get((company, slug))
                    if row[field] is None:
                        raise ValidationError({index: {field: f"'{rows[index]['company']}' has no {field} '{slug}'."}})
            if "domain" in row and "service" in row and service_domains[row["service"]] != row["domain"]:
                raise ValidationError({index: {"service": f"The domain '{rows[index]['domain']}' has no service '{rows[index]['service']}'."}})
        elif "domain" in row or "service" in row:
            raise ValidationError({index: {"company": "A domain or service is named within a company."}})
        if "incident" in row:
            owner = incident_companies.get(row["incident"])
            if owner is None or owner != row.get("company", owner):
                who = f"'{rows[index]['company']}' has" if "company" in row else "There is"
                raise ValidationError({index: {"incident": f"{who} no incident {row['incident']}."}})
        resolved.append(row)
    return resolved


class ObservationIngestView(APIView):
    """
    Receive measured observations: one object or a list of up to 10,000, all or nothing. An unknown slug
    is a 400 naming it; a key (KPI, incident, scope, time) that already exists is a 409 naming it.
    """

    permission_classes = [*APIView.permission_classes, IngestPermission]
    ingest_permission = "kpis.add_observation"

    @extend_schema(request=ObservationInSerializer(many=True), responses={201: ObservationIngestResultSerializer})
    def post(self, request):
        rows = validated_rows(ObservationInSerializer, rows_of(request))
        try:
            created = observation_services.record_observations(_resolve_scopes(rows, request.user), run=f"api:{request.user.username}")
        except observation_services.DuplicateObservation as duplicate:
            raise Conflict(duplicate.messages[0]) from duplicate
        return Response({"created": created}, status=201)
