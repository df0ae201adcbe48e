"""
Every API path answers with or without its trailing slash (the seed documents write `GET /kpis` and
`/api/metrics/kpis?company_id=...`). A path under /api/ that names no endpoint, but does with a slash added, is served
as that endpoint in place: no redirect, which a client posting a body would not follow, and the view sees the slash
form, so its links and the OpenAPI schema keep the one canonical form with the slash.
"""
from django.urls import Resolver404, resolve

from .views import not_found

API_PREFIX = "/api/"


def _names_an_endpoint(path, urlconf):
    """Whether `path` resolves to a view other than the API's catch-all 404."""
    try:
        return resolve(path, urlconf).func is not not_found
    except Resolver404:
        return False


class ApiTrailingSlashMiddleware:
    """Serves /api/<path> as /api/<path>/ when only the latter names an endpoint."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        path = request.path_info
        if path.startswith(API_PREFIX) and not path.endswith("/"):
            urlconf = getattr(request, "urlconf", None)
            if not _names_an_endpoint(path, urlconf) and _names_an_endpoint(path + "/", urlconf):
                request.path_info = path + "/"
                request.path = request.path + "/"
        return self.get_response(request)
