"""
The Content-Security-Policy header of every response (Django 5.2 has none of its own). The policy is
settings.CONTENT_SECURITY_POLICY, {directive: [sources]}: scripts only from the portal's own files (the cockpit
has none; the admin and Swagger UI load theirs from /static/), so injected markup cannot run.
"""
from django.conf import settings


def policy_header(policy):
    """{"default-src": ["'self'"], ...} as the header's value: "default-src 'self'; ..."."""
    return "; ".join(" ".join([directive, *sources]) for directive, sources in policy.items())


class ContentSecurityPolicyMiddleware:
    """Sets the header on every response that has not set its own."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.header = policy_header(settings.CONTENT_SECURITY_POLICY)

    def __call__(self, request):
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", self.header)
        return response
