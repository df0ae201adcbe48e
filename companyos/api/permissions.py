from rest_framework.authentication import TokenAuthentication
from rest_framework.permissions import SAFE_METHODS, BasePermission


class IngestPermission(BasePermission):
    """
    Reads follow the view's other permissions; a write needs a token (a data source, not a browser
    session) whose user holds the model permission named by the view's `ingest_permission`.
    """

    message = "Writing here needs an API token with write permission."

    def has_permission(self, request, view):
        if request.method in SAFE_METHODS:
            return True
        by_token = isinstance(request.successful_authenticator, TokenAuthentication)
        return by_token and request.user.has_perm(view.ingest_permission)
