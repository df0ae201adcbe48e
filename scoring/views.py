"""
/metrics: the latest scores for Prometheus to scrape, open to a bearer token or an allowed network (production:
the token only). Exec-visible KPIs only, unless METRICS_TOKEN_SEES_INTERNAL_KPIS lets the token's scraper see all.
"""
import hmac
import ipaddress

from django.conf import settings
from django.http import HttpResponse
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from companyos.client_address import client_address

from .exposition import ScoreCollector


def _has_token(request):
    """A bearer token equal to METRICS_TOKEN (never, when none is set)."""
    token = settings.METRICS_TOKEN
    header = request.headers.get("Authorization", "")
    # Compared as bytes: compare_digest refuses a str with characters beyond ASCII.
    return bool(token) and header.startswith("Bearer ") and hmac.compare_digest(header[7:].encode(), token.encode())


def _in_allowed_network(request):
    """The client (companyos.client_address, so not the proxy in front) inside METRICS_ALLOWED_NETWORKS."""
    try:
        client = ipaddress.ip_address(client_address(request))
    except ValueError:
        return False
    return any(client in ipaddress.ip_network(network) for network in settings.METRICS_ALLOWED_NETWORKS)


@require_GET
def metrics(request):
    """The latest scores for Prometheus to scrape."""
    by_token = _has_token(request)
    if not by_token and not _in_allowed_network(request):
        return HttpResponse("Scraping needs a bearer token or an allowed network.\n", status=403, content_type="text/plain")
    registry = CollectorRegistry(auto_describe=False)
    registry.register(ScoreCollector(include_internal=by_token and settings.METRICS_TOKEN_SEES_INTERNAL_KPIS))
    return HttpResponse(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)
