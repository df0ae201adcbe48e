"""
Which companies a user's reads and writes reach: those they are a member of (Membership). Superusers reach every
company; holders of `tenancy.view_all_companies` (the "All companies" group: portal-wide auditors) read every
company and write only into their own.

Every read of tenant data starts from these, in a view's get_queryset or a page's query, never filtered after the
fact. A company the user may not reach answers like one that does not exist, so its slug, ids and data leak nothing.
"""
from django.core.exceptions import ValidationError
from django.http import Http404

from .models import Company, Membership
from .services import company_named

VIEW_ALL_COMPANIES = "tenancy.view_all_companies"


def sees_all_companies(user):
    """Active superusers and holders of view_all_companies."""
    return user.is_authenticated and user.has_perm(VIEW_ALL_COMPANIES)


def writes_all_companies(user):
    return user.is_authenticated and user.is_active and user.is_superuser


def _member_company_ids(user):
    """The ids of `user`'s companies, as a subquery."""
    if not user.is_authenticated:
        return Membership.objects.none().values("company_id")
    return Membership.objects.filter(user=user).values("company_id")


def in_visible_companies(queryset, user, *, via="company"):
    """The rows of `queryset` whose company (reached by the lookup `via`) `user` may read."""
    if sees_all_companies(user):
        return queryset
    return queryset.filter(**{f"{via}__in": _member_company_ids(user)})


def in_writable_companies(queryset, user, *, via="company"):
    """The rows of `queryset` whose company (reached by the lookup `via`) `user` may write into."""
    if writes_all_companies(user):
        return queryset
    return queryset.filter(**{f"{via}__in": _member_company_ids(user)})


def visible_companies(user):
    return in_visible_companies(Company.objects.all(), user, via="pk")


def writable_companies(user):
    return in_writable_companies(Company.objects.all(), user, via="pk")


def visible_company(user, slug, *, field="company"):
    """For a read: the company `slug` if `user` may read it; Http404 naming `field` otherwise, as for an unknown one."""
    try:
        return company_named(slug, field=field, among=visible_companies(user))
    except ValidationError as refused:
        if not slug:
            raise  # a missing parameter stays a 400
        raise Http404(f"{field}: {refused.message_dict[field][0]}") from None


def writable_company(user, slug, *, field="company"):
    """For a write: the company `slug` if `user` may write into it; a ValidationError on `field` otherwise."""
    return company_named(slug, field=field, among=writable_companies(user))
