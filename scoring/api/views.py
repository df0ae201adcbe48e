import datetime

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.exceptions import NotFound, PermissionDenied, ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from companyos.api.dates import day_param
from tenancy.access import visible_company
from scoring import scorecards

from .serializers import ScoreSeriesSerializer

COMPANY = OpenApiParameter("company", str, required=True, description="The company's slug, e.g. comp-acme.")
SCOPE = OpenApiParameter("scope", str, description='"company" (default), "<domain>" or "<domain>/<service>".')
# A trend longer than this is asked for in pieces.
MAX_SERIES_DAYS = 731


def _company(request):
    """The company the request names, if the caller may read it (404 otherwise, as for an unknown one)."""
    return visible_company(request.user, request.query_params.get("company"))


class ScorecardView(APIView):
    """
    The health scorecard of one scope on one day (default: the latest computed) for a persona: exec,
    stakeholder or responder. A caller asks only for a persona whose group they belong to.
    """

    @extend_schema(
        parameters=[
            OpenApiParameter("persona", str, OpenApiParameter.PATH, enum=list(scorecards.PERSONAS), description="Whose scorecard."),
            COMPANY, SCOPE, OpenApiParameter("date", OpenApiTypes.DATE, description="Default: the latest day."),
        ],
        responses={200: OpenApiTypes.OBJECT},
    )
    def get(self, request, persona):
        if persona not in scorecards.PERSONAS:
            raise NotFound(f"There is no '{persona}' scorecard; use one of {', '.join(scorecards.PERSONAS)}.")
        params = request.query_params
        company = _company(request)
        domain, service = scorecards.resolve_scope(company, params.get("scope"))
        snapshots = scorecards.snapshots_of(company, domain, service).select_related("company", "domain", "service")
        day = day_param(params, "date")
        snapshot = (snapshots.filter(day=day) if day else snapshots.order_by("-day")).first()
        if snapshot is None:
            raise NotFound(f"No scores are computed for '{company.slug}' {params.get('scope') or 'company'}"
                           + (f" on {day}." if day else " yet."))
        try:
            return Response(scorecards.scorecard(snapshot, user=request.user, persona=persona))
        except PermissionError as refused:
            raise PermissionDenied(str(refused)) from refused


class ScoreSeriesView(APIView):
    """The daily composite and dimension scores of one scope, oldest first (default: the last 90 days)."""

    @extend_schema(
        parameters=[
            COMPANY, SCOPE,
            OpenApiParameter("since", OpenApiTypes.DATE, description="First day, inclusive."),
            OpenApiParameter("until", OpenApiTypes.DATE, description="Last day, inclusive."),
        ],
        responses={200: ScoreSeriesSerializer},
    )
    def get(self, request):
        params = request.query_params
        company = _company(request)
        domain, service = scorecards.resolve_scope(company, params.get("scope"))
        until = day_param(params, "until") or datetime.date.today()
        since = day_param(params, "since") or until - datetime.timedelta(days=89)
        if since > until:
            raise ValidationError({"since": f"{since} is after until ({until})."})
        if (until - since).days >= MAX_SERIES_DAYS:
            raise ValidationError({"since": f"Ask for at most {MAX_SERIES_DAYS} days at a time."})
        snapshots = scorecards.snapshots_of(company, domain, service).filter(day__gte=since, day__lte=until)
        return Response({
            "company": company.slug,
            "scope": params.get("scope") or "company",
            "since": since.isoformat(),
            "until": until.isoformat(),
            "series": scorecards.score_series(snapshots, scorecards.visible_slugs(request.user)),
        })
