from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from tenancy.access import visible_company, writable_company

from ..downloads import html_response, pdf_response
from ..models import Report
from ..tasks import build_on_demand_report
from .serializers import ReportRequestSerializer, ReportSerializer


@extend_schema(parameters=[OpenApiParameter("company", str, description="Only this company's reports (its slug).")])
class ReportViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """
    The stored health reports of the caller's companies, newest period first, as their audience may read them
    (exec KPIs only unless the caller sees internal ones); each downloads as PDF and HTML. POST asks for a report
    of a period up to a year, built in the background and listed when ready.
    """

    serializer_class = ReportSerializer
    filter_backends = []

    def get_queryset(self):
        reports = Report.objects.readable_by(self.request.user).select_related("company", "requested_by").defer("html", "pdf")
        slug = self.request.query_params.get("company")
        if slug and self.action == "list":
            reports = reports.filter(company=visible_company(self.request.user, slug))
        return reports.order_by("-period_end", "-created_at", "-id")

    @extend_schema(request=ReportRequestSerializer, responses={202: OpenApiTypes.OBJECT})
    def create(self, request):
        asked = ReportRequestSerializer(data=request.data)
        asked.is_valid(raise_exception=True)
        company = writable_company(request.user, asked.validated_data["company"])
        period = asked.validated_data["period"]
        build_on_demand_report.delay(company.pk, period.start.isoformat(), period.end.isoformat(), request.user.pk)
        return Response(
            {"company": company.slug, "period_start": period.start, "period_end": period.end, "status": "queued"},
            status=status.HTTP_202_ACCEPTED,
        )

    @extend_schema(responses={(200, "application/pdf"): OpenApiTypes.BINARY})
    @action(detail=True, methods=["get"])
    def pdf(self, request, pk=None):
        """The report printed to PDF, as stored."""
        return pdf_response(self.get_object())

    @extend_schema(responses={(200, "text/html"): OpenApiTypes.STR})
    @action(detail=True, methods=["get"])
    def html(self, request, pk=None):
        """The report's self-contained HTML page, as stored."""
        return html_response(self.get_object())
