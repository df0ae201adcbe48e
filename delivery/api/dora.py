"""GET /api/dora/tiers/: the DORA performance tier of each key metric of a company, team or service, day by day."""
import datetime

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from companyos.api.dates import day_param
from delivery import dora
from tenancy.access import visible_company

# A history longer than this is asked for in pieces.
MAX_HISTORY_DAYS = 366


class DoraTiersView(APIView):
    """
    The DORA tiers (Elite, High, Medium, Low) of deployment frequency, lead time for changes, change failure rate and
    time to restore of the company, a `team` or a `service`, with each day's values and tiers from `since` to `until`
    (default: the 30 days ending today), by the thresholds of the report `year` (default: the DORA_REPORT_YEAR setting).
    """

    @extend_schema(
        parameters=[
            OpenApiParameter("company", str, required=True, description="The company's slug, e.g. comp-acme."),
            OpenApiParameter("team", str, description="A team named by its repositories' custom property `team`."),
            OpenApiParameter("service", str, description='"<domain>/<service>".'),
            OpenApiParameter("since", OpenApiTypes.DATE, description="First day, inclusive."),
            OpenApiParameter("until", OpenApiTypes.DATE, description="Last day, inclusive."),
            OpenApiParameter("year", int, description="The State of DevOps report: 2023 or 2024."),
        ],
        responses={200: OpenApiTypes.OBJECT},
    )
    def get(self, request):
        params = request.query_params
        company = visible_company(request.user, params.get("company"))
        until = day_param(params, "until") or datetime.date.today()
        since = day_param(params, "since") or until - datetime.timedelta(days=29)
        if since > until:
            raise ValidationError({"since": f"{since} is after until ({until})."})
        if (until - since).days >= MAX_HISTORY_DAYS:
            raise ValidationError({"since": f"Ask for at most {MAX_HISTORY_DAYS} days at a time."})
        # A scope or year naming nothing is a ValidationError the API's handler answers with a 400 naming it.
        return Response(dora.scope_history(
            company, since, until, team=params.get("team"), service=params.get("service"), year=params.get("year"),
        ))
