"""Look-ups of tenants by what callers name them with."""
from django.core.exceptions import ValidationError

from .models import Company


def company_named(slug, *, field="company", among=None):
    """
    The company of `among` (default: every company; a caller's, from tenancy.access) whose slug is `slug`; a
    ValidationError on `field` when it is missing or not among them.
    """
    if not slug:
        raise ValidationError({field: f"Name the company: ?{field}=<slug>."})
    slug = str(slug)
    companies = Company.objects.all() if among is None else among
    # A NUL character cannot reach PostgreSQL; no slug has one.
    company = companies.filter(slug=slug).first() if "\x00" not in slug else None
    if company is None:
        raise ValidationError({field: f"No company has the slug '{slug}'."})
    return company
