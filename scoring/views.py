import hmac
import ipaddress
from functools import wraps

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from . import cockpit
from .exposition import ScoreCollector


def _scrape_allowed(request):
    """A bearer token equal to METRICS_TOKEN, or a client address inside METRICS_ALLOWED_NETWORKS."""
    token = settings.METRICS_TOKEN
    header = request.headers.get("Authorization", "")
    if token and header.startswith("Bearer ") and hmac.compare_digest(header[7:], token):
        return True
    try:
        client = ipaddress.ip_address(request.META.get("REMOTE_ADDR", ""))
    except ValueError:
        return False
    return any(client in ipaddress.ip_network(network) for network in settings.METRICS_ALLOWED_NETWORKS)


@require_GET
def metrics(request):
    """The latest scores for Prometheus to scrape."""
    if not _scrape_allowed(request):
        return HttpResponse("Scraping needs a bearer token or an allowed network.\n", status=403, content_type="text/plain")
    registry = CollectorRegistry(auto_describe=False)
    registry.register(ScoreCollector())
    return HttpResponse(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)


# --- The exec cockpit: thin views over scoring.cockpit, which builds each page with a few queries ---


def cockpit_page(template):
    """A login-required GET page rendering `template` with the view's context; a missing thing is a 404 naming it."""

    def decorate(build):
        @wraps(build)
        @login_required
        @require_GET
        def view(request, *args, **kwargs):
            try:
                context = build(request, *args, **kwargs)
            except Http404 as missing:
                return render(request, "cockpit/not_found.html", {"message": str(missing)}, status=404)
            return render(request, template, context)

        return view

    return decorate


@cockpit_page("cockpit/overview.html")
def overview(request):
    """A company, domain or service: composite, dimensions, trends, KPIs, breaches and the methodology panel."""
    return cockpit.overview(request.user, cockpit.scope_from(request.GET), cockpit.day_from(request.GET))


@cockpit_page("cockpit/dimension.html")
def dimension(request, dimension):
    """A dimension's score, trend and the visible KPIs it is computed from."""
    return cockpit.dimension_detail(request.user, cockpit.scope_from(request.GET), dimension, cockpit.day_from(request.GET))


@cockpit_page("cockpit/kpi.html")
def kpi(request, slug):
    """A KPI's daily values and one day's observations, each linked to its evidence."""
    return cockpit.kpi_detail(request.user, cockpit.scope_from(request.GET), slug, cockpit.day_from(request.GET))


@cockpit_page("cockpit/version.html")
def version(request, slug, history_id):
    """The definition version a snapshot scored a KPI under."""
    return cockpit.definition_version(request.user, slug, history_id)


@cockpit_page("cockpit/incident.html")
def incident(request, incident_id):
    """An incident with its alerts, phases, milestones, surveys, runbook runs and KPIs."""
    return cockpit.incident_detail(request.user, incident_id)


@cockpit_page("cockpit/incidents.html")
def incidents(request):
    """The incidents a daily KPI's value counted, by detection or resolution day."""
    return cockpit.incident_list(cockpit.scope_from(request.GET), request.GET)


@cockpit_page("cockpit/reviews.html")
def reviews(request):
    """A KPI owner's definitions with their review dates, overdue first."""
    return cockpit.reviews(request.user, timezone.localdate())
