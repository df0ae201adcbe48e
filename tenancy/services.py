"""Look-ups of tenants by what callers name them with."""
from django.core.exceptions import ValidationError

from .models import Company


def company_named(slug, *, field="company"):
    """The company whose slug is `slug`; a ValidationError on `field` when it is missing or unknown."""
    if not slug:
        raise ValidationError({field: f"Name the company: ?{field}=<slug>."})
    slug = str(slug)
    # A NUL character cannot reach PostgreSQL; no slug has one.
    company = Company.objects.filter(slug=slug).first() if "\x00" not in slug else None
    if company is None:
        raise ValidationError({field: f"No company has the slug '{slug}'."})
    return company
