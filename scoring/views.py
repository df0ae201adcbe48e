"""/metrics: the latest scores for Prometheus to scrape, open to a bearer token or an allowed network."""
import hmac
import ipaddress

from django.conf import settings
from django.http import HttpResponse
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

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
