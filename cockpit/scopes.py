"""
The cockpit's unit of navigation (a company, domain or service) and the request parameters that name it and its day.
"""
from dataclasses import dataclass
from urllib.parse import urlencode

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.urls import reverse

from companyos.api.dates import read_day
from tenancy.access import sees_all_companies, visible_companies
from tenancy.models import Company
from scoring.choices import ScopeLevel
from scoring.scorecards import resolve_scope, snapshots_of


@dataclass(frozen=True)
class Scope:
    """A company, or one of its domains or services: the cockpit's unit of navigation."""

    company: Company
    domain: object = None
    service: object = None

    @property
    def param(self):
        """The `scope` parameter of this scope: "" (the company), "<domain>" or "<domain>/<service>"."""
        if self.service is not None:
            return f"{self.domain.slug}/{self.service.slug}"
        return self.domain.slug if self.domain is not None else ""

    @property
    def level(self):
        if self.service is not None:
            return ScopeLevel.SERVICE
        return ScopeLevel.DOMAIN if self.domain is not None else ScopeLevel.COMPANY

    @property
    def name(self):
        return (self.service or self.domain or self.company).name

    def query(self, **extra):
        """The query string naming this scope (and `extra` parameters), for links."""
        params = {"company": self.company.slug}
        if self.param:
            params["scope"] = self.param
        params.update({key: value for key, value in extra.items() if value not in (None, "")})
        return "?" + urlencode(params)

    def url(self, name, *args, **extra):
        return reverse(f"cockpit:{name}", args=args) + self.query(**extra)

    def breadcrumbs(self):
        """[(name, overview url)] from the company down to this scope."""
        crumbs = [(self.company.name, Scope(self.company).url("home"))]
        if self.domain is not None:
            crumbs.append((self.domain.name, Scope(self.company, self.domain).url("home")))
        if self.service is not None:
            crumbs.append((self.service.name, self.url("home")))
        return crumbs

    def snapshots(self):
        return snapshots_of(self.company, self.domain, self.service)


def scope_from(user, params):
    """
    The Scope named by `company` (default: the user's first company) and `scope` parameters; Http404 naming the
    parameter at fault when either names nothing the user may see, PermissionDenied when the user has no company.
    """
    slug = params.get("company")
    companies = visible_companies(user).order_by("slug")
    # A NUL character cannot reach PostgreSQL; no slug has one.
    company = (companies.filter(slug=slug).first() if "\x00" not in slug else None) if slug else companies.first()
    if company is None and not slug and not sees_all_companies(user):
        raise PermissionDenied(
            "You are not a member of any company yet. An administrator grants you your companies in the admin "
            "(Users → your user → Companies)."
        )
    if company is None:
        raise Http404(f"company: no company has the slug '{slug}'." if slug else "There is no company yet; load data first.")
    try:
        domain, service = resolve_scope(company, params.get("scope"))
    except ValidationError as error:
        raise Http404(f"scope: {error.message_dict['scope'][0]}") from error
    return Scope(company, domain, service)


def day_from(params, name="day", *, required=False):
    """
    The date parameter `name`, None when absent and not required; Http404 naming it when it is missing, not a date
    (2026-02-30 is not) or outside the supported years (companyos.api.dates).
    """
    value = params.get(name)
    if not value and not required:
        return None
    try:
        return read_day(value or "")
    except ValueError as error:
        raise Http404(f"{name}: {error}") from None


def snapshot_on(scope, day):
    """The scope's snapshot of `day`, or its latest when `day` is None (None when nothing is scored)."""
    snapshots = scope.snapshots()
    return (snapshots.filter(day=day) if day else snapshots.order_by("-day")).first()


# The cascade's other levels a page may show (scoring.levels.LEVELS), in the order of their picker.
LEVEL_NAMES = ("team", "tenant", "cohort")


def level_from(params):
    """The `level` parameter: team (default), tenant or cohort; Http404 naming it otherwise."""
    level = params.get("level") or LEVEL_NAMES[0]
    if level not in LEVEL_NAMES:
        raise Http404(f"level: there is no level '{level}'; use one of {', '.join(LEVEL_NAMES)}.")
    return level


def company_url(scope, name, **params):
    """A link to the page `name` of the scope's company with `params` (a level and member, a team or service, a day)."""
    return reverse(f"cockpit:{name}") + Scope(scope.company).query(**params)
