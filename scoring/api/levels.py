"""GET /api/levels/{team,tenant,cohort}/: each member of a level scored on a day, with the parts of every score."""
import datetime

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.exceptions import NotFound
from rest_framework.response import Response
from rest_framework.views import APIView

from companyos.api.dates import day_param
from scoring.levels import LEVELS, level_payload
from scoring.scorecards import visible_slugs
from tenancy.access import visible_company


class LevelScoresView(APIView):
    """
    The scores of each team, tenant or cohort of a company on `date` (default yesterday), or of one `member`: its
    composite and band, its dimensions with their parts, and its KPIs' values and scores (the KPIs the caller may see).
    """

    @extend_schema(
        parameters=[
            OpenApiParameter("company", str, required=True, description="The company's slug, e.g. comp-acme."),
            OpenApiParameter("date", OpenApiTypes.DATE, description="Default: yesterday."),
            OpenApiParameter("member", str, description="One team's, tenant's or cohort's name."),
        ],
        responses={200: OpenApiTypes.OBJECT},
    )
    def get(self, request, level):
        if level not in LEVELS:
            raise NotFound(f"There is no level '{level}'; use one of {', '.join(LEVELS)}.")
        params = request.query_params
        company = visible_company(request.user, params.get("company"))
        day = day_param(params, "date") or datetime.date.today() - datetime.timedelta(days=1)
        member = params.get("member") or None
        payload = level_payload(LEVELS[level], company, day, visible=visible_slugs(request.user), member=member)
        if member and not payload["members"]:
            raise NotFound(f"member: '{company.slug}' has no {level} '{member}' with data on {day}.")
        return Response(payload)
