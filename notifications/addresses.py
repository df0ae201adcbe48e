"""
Where a chat or webhook channel may POST: http or https, to a public address. Unless
NOTIFICATION_WEBHOOKS_ALLOW_PRIVATE is on, a host that is or resolves to a private, loopback, link-local or otherwise
non-public address is refused, when the channel is saved and again before every send (a name may resolve
elsewhere later), so the portal's requests cannot be aimed at the services behind its own firewall.
"""
import ipaddress
import socket
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError

SCHEMES = ("http", "https")


def check_destination(url, *, field="url"):
    """Refuse (ValidationError on `field`) a URL the portal may not POST to; return it unchanged otherwise."""
    parts = urlsplit(url)
    if parts.scheme not in SCHEMES or not parts.hostname:
        raise ValidationError({field: f"'{url}' is not an http or https URL."})
    if parts.username or parts.password:
        raise ValidationError({field: "The URL may not carry a user name or password; a signed webhook uses its secret."})
    if settings.NOTIFICATION_WEBHOOKS_ALLOW_PRIVATE:
        return url
    for address in _addresses(parts.hostname, field):
        if not address.is_global or address.is_multicast:
            raise ValidationError(
                {field: f"{parts.hostname} is a private or local address ({address}); notifications go to public addresses only."}
            )
    return url


def _addresses(hostname, field):
    try:
        return [ipaddress.ip_address(hostname)]
    except ValueError:
        pass
    try:
        found = socket.getaddrinfo(hostname, None, proto=socket.IPPROTO_TCP)
    except socket.gaierror:
        raise ValidationError({field: f"The host {hostname} is not known."}) from None
    return [ipaddress.ip_address(info[4][0].split("%")[0]) for info in found]
