from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from companyos.api.payloads import rows_of
from companyos.api.permissions import IngestPermission
from connectors import signatures
from connectors.api.views import SignedWebhookView
from connectors.choices import IntegrationKind
from incidents import ingestion, pagerduty
from incidents.models import Incident
from tenancy.access import in_visible_companies, in_writable_companies, writable_companies, writable_company
from tenancy.models import Service

from .serializers import (
    AlertInSerializer,
    AlertmanagerPayloadSerializer,
    IncidentInSerializer,
    IncidentSerializer,
    IngestResultSerializer,
    MilestoneInSerializer,
    PhaseTransitionInSerializer,
    RunbookExecutionInSerializer,
    RunbookExecutionSerializer,
    SurveyResponseInSerializer,
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
    Prometheus Alertmanager's webhook (version 4), as Alertmanager sends it. The company comes from the
    `company` query parameter or the alerts' common `company` label. The payload's types are checked first
    (a wrong one is a 400 naming its place, e.g. alerts[0].labels); fields Alertmanager adds are kept, not refused.
    """

    permission_classes = [*APIView.permission_classes, IngestPermission]
    ingest_permission = "incidents.add_alert"

    @extend_schema(request=AlertmanagerPayloadSerializer, responses={200: IngestResultSerializer})
    def post(self, request):
        if not isinstance(request.data, dict):
            raise ValidationError({"non_field_errors": ["An Alertmanager webhook payload is a JSON object."]})
        AlertmanagerPayloadSerializer(data=request.data).is_valid(raise_exception=True)
        slug = request.query_params.get("company") or request.data.get("commonLabels", {}).get("company")
        if not slug:
            raise ValidationError({"company": "Name the company in ?company= or a common 'company' label."})
        company = writable_company(request.user, slug)
        result = ingestion.ingest_alerts(ingestion.alerts_from_alertmanager(request.data, company))
        return Response(IngestResultSerializer(result).data)


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
        incidents = in_visible_companies(Incident.objects.all(), self.request.user)
        return incidents.select_related("company", "service").order_by("-detected_at", "-id")

    @extend_schema(request=IncidentInSerializer, responses={200: IncidentSerializer, 201: IncidentSerializer})
    def create(self, request):
        fields = validated_row(request, IncidentInSerializer)
        incident, created = ingestion.record_incident(fields.pop("company"), fields.pop("external_id"), **fields)
        return upserted(incident, created, IncidentSerializer)

    def _record_child(self, request, pk, serializer_class, record):
        incident = get_object_or_404(in_writable_companies(Incident.objects.all(), request.user), pk=pk)
        serializer = serializer_class(data=request.data)
        serializer.is_valid(raise_exception=True)
        row, created = record(incident, **serializer.validated_data)
        return upserted(row, created, serializer_class)

    @extend_schema(request=PhaseTransitionInSerializer, responses=PhaseTransitionInSerializer)
    @action(detail=True, methods=["post"], ingest_permission="incidents.add_phasetransition")
    def phases(self, request, pk=None):
        """Record the time the incident entered a phase of the timeline."""
        return self._record_child(request, pk, PhaseTransitionInSerializer, ingestion.record_phase)

    @extend_schema(request=MilestoneInSerializer, responses=MilestoneInSerializer)
    @action(detail=True, methods=["post"], ingest_permission="incidents.add_milestone")
    def milestones(self, request, pk=None):
        """Record a committed update and, once delivered, when it was."""
        return self._record_child(request, pk, MilestoneInSerializer, ingestion.record_milestone)

    @extend_schema(request=SurveyResponseInSerializer, responses=SurveyResponseInSerializer)
    @action(detail=True, methods=["post"], url_path="survey-responses", ingest_permission="incidents.add_surveyresponse")
    def survey_responses(self, request, pk=None):
        """Record a stakeholder's 1-5 rating of the incident."""
        return self._record_child(request, pk, SurveyResponseInSerializer, ingestion.record_survey_response)


class RunbookExecutionIngestView(APIView):
    """Record one run of an automation runbook, keyed by its execution id."""

    permission_classes = [*APIView.permission_classes, IngestPermission]
    ingest_permission = "incidents.add_runbookexecution"

    @extend_schema(request=RunbookExecutionInSerializer, responses={200: RunbookExecutionSerializer, 201: RunbookExecutionSerializer})
    def post(self, request):
        fields = validated_row(request, RunbookExecutionInSerializer)
        fields.pop("service", None)
        execution, created = ingestion.record_runbook_execution(fields.pop("company"), **fields)
        return upserted(execution, created, RunbookExecutionSerializer)
