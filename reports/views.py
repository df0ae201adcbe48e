"""
The cockpit's Reports page (/cockpit/reports/): a company's stored reports to download, and a form to ask for one.
It lives here, above the cockpit, and uses the cockpit's base template, scopes and error pages.
"""
from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from cockpit.scopes import scope_from
from cockpit.views import NO_ROLE
from tenancy.access import visible_companies, writable_company
from tenancy.roles import reads_company_data

from .downloads import html_response, pdf_response
from .forms import ReportRequestForm
from .models import Report
from .periods import month_before
from .services import audience_of
from .tasks import build_on_demand_report


def reports_page(view):
    """Login required, a reading role required; a missing thing is the cockpit's 404 page naming it, a refusal its 403."""

    @wraps(view)
    @login_required
    def checked(request, *args, **kwargs):
        try:
            if not reads_company_data(request.user):
                raise PermissionDenied(NO_ROLE)
            return view(request, *args, **kwargs)
        except Http404 as missing:
            return render(request, "cockpit/not_found.html", {"message": str(missing)}, status=404)
        except PermissionDenied as refused:
            return render(request, "cockpit/no_access.html", {"message": str(refused)}, status=403)

    return checked


def _page(request, company, form, status=200):
    reports = Report.objects.readable_by(request.user).filter(company=company).select_related("requested_by")
    return render(request, "reports/list.html", {
        "company": company,
        "companies": list(visible_companies(request.user).order_by("name").values("slug", "name")),
        "reports": reports.defer("html", "pdf", "sources"),
        "form": form,
        "audience": audience_of(request.user),
    }, status=status)


@reports_page
@require_http_methods(["GET", "POST"])
def report_list(request):
    """GET: the company's reports and the request form. POST: ask for a report of a period; it is built and listed."""
    company = scope_from(request.user, request.GET).company
    if request.method == "GET":
        last_month = month_before(timezone.now().date())
        return _page(request, company, ReportRequestForm(initial={"start": last_month.start, "end": last_month.end}))
    try:
        company = writable_company(request.user, company.slug)
    except ValidationError:
        raise PermissionDenied(f"You may read {company.name}'s reports but not ask for one: you are not a member of it.") from None
    form = ReportRequestForm(request.POST)
    if not form.is_valid():
        return _page(request, company, form, status=400)
    period = form.cleaned_data["period"]
    build_on_demand_report.delay(company.pk, period.start.isoformat(), period.end.isoformat(), request.user.pk)
    messages.success(request, f"The report of {period.label()} is being built; it is listed here when ready.")
    return redirect(reverse("reports:list") + f"?company={company.slug}")


def _readable_report(request, report_id):
    report = Report.objects.readable_by(request.user).select_related("company").filter(pk=report_id).first()
    if report is None:
        raise Http404(f"report: there is no report #{report_id}.")
    return report


@reports_page
@require_GET
def report_pdf(request, report_id):
    return pdf_response(_readable_report(request, report_id))


@reports_page
@require_GET
def report_html(request, report_id):
    return html_response(_readable_report(request, report_id))
