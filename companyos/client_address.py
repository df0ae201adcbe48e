"""The address of the client behind a request, the one rule that login lockout, API throttles and /metrics share."""
from django.conf import settings


def client_address(request):
    """
    REMOTE_ADDR, or, behind TRUSTED_PROXY_COUNT proxies, the address the outermost of them saw: the entry of
    X-Forwarded-For that many places from its end (each proxy appends the address it was reached from, so entries
    further left are the client's own word and not trusted).
    """
    count = settings.TRUSTED_PROXY_COUNT
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    addresses = [address.strip() for address in forwarded.split(",") if address.strip()]
    if count and addresses:
        return addresses[-min(count, len(addresses))]
    return request.META.get("REMOTE_ADDR", "")
