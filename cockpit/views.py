"""The exec cockpit's views: thin wrappers over `cockpit.pages`, which builds each page with a few queries."""
from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from tenancy.roles import reads_company_data

from .pages.incidents import incident_detail, incident_list
from .pages.kpi import definition_version, kpi_detail
from .pages.levels import dora_page, level_page
from .pages.overview import dimension_detail
from .pages.overview import overview as overview_page
from .pages.reviews import reviews as reviews_page
from .scopes import day_from, level_from, scope_from

NO_ROLE = (
    "Your account has no role yet, so the cockpit has nothing to show you. An administrator adds you to a group "
    "(Executives, Stakeholders, Responders, KPI owners, KPI approvers or Auditors) and to your companies."
)


def cockpit_page(template):
    """
    A login-required GET page rendering `template` with the view's context, for users with a reading role; a missing
    thing (or another company's) is a 404 naming it, and a user without a role or a company gets a page saying why.
    """

    def decorate(build):
        @wraps(build)
        @login_required
        @require_GET
        def view(request, *args, **kwargs):
            try:
                if not reads_company_data(request.user):
                    raise PermissionDenied(NO_ROLE)
                context = build(request, *args, **kwargs)
            except Http404 as missing:
                return render(request, "cockpit/not_found.html", {"message": str(missing)}, status=404)
            except PermissionDenied as refused:
                return render(request, "cockpit/no_access.html", {"message": str(refused)}, status=403)
            return render(request, template, context)

        return view

    return decorate


@cockpit_page("cockpit/overview.html")
def overview(request):
    """A company, domain or service: composite, dimensions, trends, KPIs, breaches and the methodology panel."""
    return overview_page(request.user, scope_from(request.user, request.GET), day_from(request.GET))


@cockpit_page("cockpit/dimension.html")
def dimension(request, dimension):
    """A dimension's score, trend and the visible KPIs it is computed from."""
    return dimension_detail(request.user, scope_from(request.user, request.GET), dimension, day_from(request.GET))


@cockpit_page("cockpit/kpi.html")
def kpi(request, slug):
    """A KPI's daily values and one day's observations, each linked to its evidence."""
    return kpi_detail(request.user, scope_from(request.user, request.GET), slug, day_from(request.GET))


@cockpit_page("cockpit/version.html")
def version(request, slug, history_id):
    """The definition version a snapshot scored a KPI under."""
    return definition_version(request.user, slug, history_id)


@cockpit_page("cockpit/incident.html")
def incident(request, incident_id):
    """An incident with its alerts, phases, milestones, surveys, runbook runs and KPIs."""
    return incident_detail(request.user, incident_id)


@cockpit_page("cockpit/incidents.html")
def incidents(request):
    """The incidents a daily KPI's value counted, by detection or resolution day."""
    return incident_list(scope_from(request.user, request.GET), request.GET)


@cockpit_page("cockpit/levels.html")
def levels(request):
    """A company's teams, tenants or cohorts scored like services, and one member's scores with their parts."""
    scope = scope_from(request.user, request.GET)
    return level_page(request.user, scope, level_from(request.GET), request.GET.get("member"), day_from(request.GET))


@cockpit_page("cockpit/dora.html")
def dora(request):
    """The DORA tiers of the company, a team or a service, with their daily history."""
    return dora_page(scope_from(request.user, request.GET), request.GET, day_from(request.GET))


@cockpit_page("cockpit/reviews.html")
def reviews(request):
    """A KPI owner's definitions with their review dates, overdue first."""
    return reviews_page(request.user, timezone.localdate())
