"""The API's read rule (a default permission of every endpoint): reading company data needs a role."""
from rest_framework.permissions import BasePermission

from .roles import is_data_source, reads_company_data

READS = ("GET", "HEAD")


class ReadsNeedARole(BasePermission):
    """
    GET and HEAD need a reading role (tenancy.roles.READING_ROLES) or a superuser. A data source's token reads only
    where a view sets `data_source_reads = True` (to confirm its writes); a user in no group reads nothing.
    Writes are left to the view's own permissions.
    """

    message = (
        "Reading here needs a role: an administrator adds you to a group (Executives, Stakeholders, Responders, "
        "KPI owners, KPI approvers or Auditors) and to your companies."
    )

    def has_permission(self, request, view):
        if request.method not in READS or reads_company_data(request.user):
            return True
        return getattr(view, "data_source_reads", False) and is_data_source(request.user)
