"""
Rate limits of the API (rates in REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]), answered 429 in the API's error shape:
each signed-in caller's requests ("user"), and the bad tokens a client address presents ("failed_token"), which
are counted even though they never get as far as the per-user limit.
"""
from rest_framework import authentication, throttling
from rest_framework.exceptions import AuthenticationFailed, Throttled
from rest_framework.settings import api_settings

from companyos.client_address import client_address


class SettingsRateThrottle(throttling.SimpleRateThrottle):
    """A throttle whose rate is read from the settings when it is made (DRF reads them once, at import)."""

    def get_rate(self):
        return api_settings.DEFAULT_THROTTLE_RATES[self.scope]

    def get_ident(self, request):
        return client_address(request)


class UserRateThrottle(SettingsRateThrottle):
    """The requests of each authenticated user; anonymous requests are refused by authentication, not counted."""

    scope = "user"

    def get_cache_key(self, request, view):
        if not request.user or not request.user.is_authenticated:
            return None
        return self.cache_format % {"scope": self.scope, "ident": request.user.pk}


class FailedTokenThrottle(SettingsRateThrottle):
    """Bad tokens per client address: past the rate, every token that address presents is refused until the window passes."""

    scope = "failed_token"

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}

    def refusal(self, request):
        """A Throttled to raise when the address is over its rate, else None."""
        self.key = self.get_cache_key(request, None)
        self.now = self.timer()
        self.history = [moment for moment in self.cache.get(self.key, []) if moment > self.now - self.duration]
        return Throttled(self.wait()) if len(self.history) >= self.num_requests else None

    def record_failure(self):
        self.history.insert(0, self.now)
        self.cache.set(self.key, self.history, self.duration)


class TokenAuthentication(authentication.TokenAuthentication):
    """
    DRF's token, as `Authorization: Token <key>` or `Bearer <key>` (what Alertmanager's and Prometheus'
    `authorization` sends by default), slowed for an address that keeps presenting bad tokens (FailedTokenThrottle).
    """

    keywords = (b"token", b"bearer")

    def authenticate(self, request):
        words = authentication.get_authorization_header(request).split()
        if not words or words[0].lower() not in self.keywords:
            return None
        throttle = FailedTokenThrottle()
        refusal = throttle.refusal(request)
        if refusal is not None:
            raise refusal
        try:
            if len(words) != 2:
                raise AuthenticationFailed("Invalid token header: give one key after the keyword.")
            try:
                key = words[1].decode()
            except UnicodeError:
                raise AuthenticationFailed("Invalid token header: the key has characters a token never has.") from None
            return self.authenticate_credentials(key)
        except AuthenticationFailed:
            throttle.record_failure()
            raise
