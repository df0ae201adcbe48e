import json

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ParseError, ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from companyos.api.payloads import rows_of
from companyos.api.permissions import IngestPermission
from connectors import signatures
from connectors.api.views import SignedWebhookView
from connectors.choices import IntegrationKind
from incidents import alertmanager, ingestion, pagerduty
from incidents.models import Alert, Incident, RunbookExecution
from tenancy.access import in_visible_companies, in_writable_companies, writable_companies
from tenancy.models import Service

from .serializers import (
    AlertInSerializer,
    AlertmanagerPayloadSerializer,
    AlertSerializer,
    AlertmanagerResultSerializer,
    IncidentInSerializer,
    IncidentSerializer,
    IngestResultSerializer,
    MilestoneInSerializer,
    MilestoneSerializer,
    PhaseTransitionInSerializer,
    PhaseTransitionSerializer,
    RunbookExecutionInSerializer,
    RunbookExecutionSerializer,
    SurveyResponseInSerializer,
    SurveyResponseSerializer,
)


def slug_context(rows, user):
    """Every company (of those `user` writes into) and service the rows name, resolved in two queries."""
    # Only plausible slugs reach the query; the serializer names what is wrong with the others.
    company_slugs = {row["company"] for row in rows if isinstance(row.get("company"), str) and "\x00" not in row["company"]}
    companies = {company.slug: company for company in writable_companies(user).filter(slug__in=company_slugs)}
    services = {
        (service.domain.company_id, service.slug): service
        for service in Service.objects.filter(domain__company__in=companies.values()).select_related("domain")
    }
    return {"companies": companies, "services": services}


def validated_row(request, serializer_class):
    """The request's one object, validated, with its company and service slugs resolved."""
    rows = rows_of(request, limit=1)
    serializer = serializer_class(data=rows[0], context=slug_context(rows, request.user))
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def upserted(row, created, serializer_class):
    """201 for a row just created, 200 for one updated in place."""
    return Response(serializer_class(row).data, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)


class AlertIngestView(APIView):
    """Receive raw alerts, one or a list of up to 10,000, all or nothing; re-sent alerts are skipped."""

    permission_classes = [*APIView.permission_classes, IngestPermission]
    ingest_permission = "incidents.add_alert"

    @extend_schema(request=AlertInSerializer(many=True), responses={201: IngestResultSerializer})
    def post(self, request):
        rows = rows_of(request)
        serializer = AlertInSerializer(data=rows, many=True, context=slug_context(rows, request.user))
        serializer.is_valid(raise_exception=True)
        result = ingestion.ingest_alerts([AlertInSerializer().to_alert(attrs) for attrs in serializer.validated_data])
        return Response(IngestResultSerializer(result).data, status=status.HTTP_201_CREATED)


class AlertmanagerWebhookView(APIView):
    """
    Prometheus Alertmanager's webhook (version 4), as Alertmanager sends it (incidents.alertmanager): each alert's
    company from its `company` label or `?company=`, a group of several companies split, every delivery kept
    as a source event. The payload's types are checked first (a wrong one is a 400 naming its place, e.g.
    alerts[0].labels); fields Alertmanager adds are kept, not refused.
    """

    permission_classes = [*APIView.permission_classes, IngestPermission]
    ingest_permission = "incidents.add_alert"

    @extend_schema(
        request=AlertmanagerPayloadSerializer,
        parameters=[OpenApiParameter("company", str, description="The company of alerts without a 'company' label.")],
        responses={200: AlertmanagerResultSerializer},
    )
    def post(self, request):
        body = request.body  # read before the parser, so both see it; a delivery's ID is its hash
        company_slug = request.query_params.get("company", "")
        try:
            payload = request.data
        except ParseError as error:
            alertmanager.keep_refused(body, user=request.user, company_slug=company_slug, reason=str(error.detail))
            raise
        checked = AlertmanagerPayloadSerializer(data=payload)
        if not isinstance(payload, dict) or not checked.is_valid():
            errors = checked.errors if isinstance(payload, dict) else {
                "non_field_errors": ["An Alertmanager webhook payload is a JSON object."]
            }
            alertmanager.keep_refused(body, user=request.user, company_slug=company_slug, reason=json.dumps(errors))
            raise ValidationError(errors)
        delivery = alertmanager.deliver(body, payload, user=request.user, company_slug=company_slug)
        return Response(AlertmanagerResultSerializer(delivery).data)


class PagerDutyWebhookView(SignedWebhookView):
    """
    PagerDuty's v3 webhooks of one account (the integration in the URL), signed with its subscription's
    secret: incidents and their phases (incidents.pagerduty). A redelivered event changes nothing.
    """

    kind = IntegrationKind.PAGERDUTY
    signature_header = signatures.PAGERDUTY_HEADER
    signature_valid = staticmethod(signatures.pagerduty_signature_valid)

    def deliver(self, request, integration, payload):
        return pagerduty.deliver(integration, payload)


class IncidentViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """
    Incidents of the caller's companies; a data source creates or updates one by its (company, external_id), and
    reads its companies' incidents to confirm its writes.
    """

    serializer_class = IncidentSerializer
    lookup_value_regex = r"\d+"
    filterset_fields = ["severity", "status", "automation_used"]
    ordering_fields = ["detected_at", "resolved_at"]
    permission_classes = [*viewsets.GenericViewSet.permission_classes, IngestPermission]
    ingest_permission = "incidents.add_incident"
    data_source_reads = True

    def get_queryset(self):
        # The list leaves out incidents merged into another; one is still shown by its id, with merged_into.
        rows = Incident.objects.all() if self.action == "list" else Incident.all_objects.all()
        incidents = in_visible_companies(rows, self.request.user)
        return incidents.select_related("company", "service").order_by("-detected_at", "-id")

    @extend_schema(request=IncidentInSerializer, responses={200: IncidentSerializer, 201: IncidentSerializer})
    def create(self, request):
        fields = validated_row(request, IncidentInSerializer)
        company, external_id = fields.pop("company"), fields.pop("external_id")
        incident, created = ingestion.record_incident(company, external_id, **fields)
        return upserted(incident, created, IncidentSerializer)

    def _record_child(self, request, pk, serializer_class, record):
        incident = get_object_or_404(in_writable_companies(Incident.objects.all(), request.user), pk=pk)
        serializer = serializer_class(data=request.data)
        serializer.is_valid(raise_exception=True)
        row, created = record(incident, **serializer.validated_data)
        return upserted(row, created, serializer_class)

    def _list_children(self, pk, rows, serializer_class):
        """
        A page of the rows `rows(incident)` of one of the caller's incidents (another company's is a 404). Their
        actions have no filter backends: the incident list's filters do not apply, so the schema does not offer them.
        """
        incident = get_object_or_404(self.get_queryset(), pk=pk)
        page = self.paginate_queryset(rows(incident))
        return self.get_paginated_response(serializer_class(page, many=True).data)

    @extend_schema(methods=["GET"], responses=PhaseTransitionSerializer(many=True), description="The incident's timeline, in order.")
    @extend_schema(methods=["POST"], request=PhaseTransitionInSerializer, responses={200: PhaseTransitionInSerializer, 201: PhaseTransitionInSerializer})
    @action(detail=True, methods=["get", "post"], filter_backends=[], ingest_permission="incidents.add_phasetransition")
    def phases(self, request, pk=None):
        """Record the time the incident entered a phase of the timeline."""
        if request.method == "GET":
            return self._list_children(pk, lambda incident: incident.phases.order_by("entered_at", "id"), PhaseTransitionSerializer)
        return self._record_child(request, pk, PhaseTransitionInSerializer, ingestion.record_phase)

    @extend_schema(methods=["GET"], responses=MilestoneSerializer(many=True), description="The incident's milestones, by committed ETA.")
    @extend_schema(methods=["POST"], request=MilestoneInSerializer, responses={200: MilestoneInSerializer, 201: MilestoneInSerializer})
    @action(detail=True, methods=["get", "post"], filter_backends=[], ingest_permission="incidents.add_milestone")
    def milestones(self, request, pk=None):
        """Record a committed update and, once delivered, when it was."""
        if request.method == "GET":
            return self._list_children(pk, lambda incident: incident.milestones.order_by("committed_eta", "id"), MilestoneSerializer)
        return self._record_child(request, pk, MilestoneInSerializer, ingestion.record_milestone)

    @extend_schema(methods=["GET"], responses=SurveyResponseSerializer(many=True), description="The incident's survey responses, in order.")
    @extend_schema(methods=["POST"], request=SurveyResponseInSerializer, responses={200: SurveyResponseInSerializer, 201: SurveyResponseInSerializer})
    @action(
        detail=True, methods=["get", "post"], url_path="survey-responses", filter_backends=[],
        ingest_permission="incidents.add_surveyresponse",
    )
    def survey_responses(self, request, pk=None):
        """Record a stakeholder's 1-5 rating of the incident."""
        if request.method == "GET":
            return self._list_children(
                pk, lambda incident: incident.survey_responses.order_by("submitted_at", "id"), SurveyResponseSerializer
            )
        return self._record_child(request, pk, SurveyResponseInSerializer, ingestion.record_survey_response)

    @extend_schema(responses=AlertSerializer(many=True))
    @action(detail=True, methods=["get"], filter_backends=[])
    def alerts(self, request, pk=None):
        """The alerts grouped into the incident, in the order they were issued."""
        return self._list_children(pk, _alerts_of, AlertSerializer)

    @extend_schema(responses=RunbookExecutionSerializer(many=True))
    @action(detail=True, methods=["get"], url_path="runbook-executions", filter_backends=[])
    def runbook_executions(self, request, pk=None):
        """The runbook runs recorded against the incident, in the order they started."""
        return self._list_children(pk, _runbook_executions_of, RunbookExecutionSerializer)


def _alerts_of(incident):
    return Alert.objects.filter(incident=incident).select_related("service").order_by("issued_at", "id")


def _runbook_executions_of(incident):
    return RunbookExecution.objects.filter(incident=incident).select_related("company").order_by("started_at", "id")


class RunbookExecutionIngestView(APIView):
    """Record one run of an automation runbook, keyed by its execution id."""

    permission_classes = [*APIView.permission_classes, IngestPermission]
    ingest_permission = "incidents.add_runbookexecution"

    @extend_schema(request=RunbookExecutionInSerializer, responses={200: RunbookExecutionSerializer, 201: RunbookExecutionSerializer})
    def post(self, request):
        fields = validated_row(request, RunbookExecutionInSerializer)
        fields.pop("service", None)
        company = fields.pop("company")
        execution, created = ingestion.record_runbook_execution(company, **fields)
        return upserted(execution, created, RunbookExecutionSerializer)
