"""
The counts the methodology's dashboard reads (`/api/alerts/count` and `/api/incidents/count`, with or without the
trailing slash): how many raw alerts a company received, and how many incidents it had, in a period.
"""
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from companyos.api.dates import period_param
from incidents.models import Alert, Incident
from tenancy.access import visible_company

PERIOD_PARAMETERS = [
    OpenApiParameter("company_id", str, required=True, description="The company's slug, e.g. comp-acme (alias company)."),
    OpenApiParameter("timeRange", str, description="<n>h or <n>d ending at end; default 24h. Not with start."),
    OpenApiParameter("start", str, description="Start of the period instead of timeRange: a date or an ISO 8601 time."),
    OpenApiParameter("end", str, description="End of the period (a date includes its day); default now. Alias until."),
]


class PeriodCountView(APIView):
    """How many of the company's rows of `model` have their `time_field` in the period; the answer names both."""

    model = None
    time_field = None

    @extend_schema(parameters=PERIOD_PARAMETERS, responses={200: OpenApiTypes.OBJECT})
    def get(self, request):
        params = request.query_params
        company = visible_company(request.user, params.get("company_id") or params.get("company"), field="company_id")
        period = period_param(params)
        rows = self.model.objects.filter(
            company=company, **{f"{self.time_field}__gte": period.start, f"{self.time_field}__lt": period.end}
        )
        return Response({
            "company_id": company.slug,
            "measurement_period": {"start": period.start.isoformat(), "end": period.end.isoformat(), "range": period.label},
            "count": rows.count(),
        })


class AlertCountView(PeriodCountView):
    """Raw alerts the company received that were issued in the period (the methodology's "raw alerts received")."""

    model = Alert
    time_field = "issued_at"


class IncidentCountView(PeriodCountView):
    """Incidents of the company detected in the period, from correlation and from every other source."""

    model = Incident
    time_field = "detected_at"
