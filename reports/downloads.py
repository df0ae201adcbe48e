"""How a stored report is handed out: the PDF as a file, the HTML as a page that may load and run nothing."""
from django.http import HttpResponse

from companyos.content_security_policy import policy_header

# The stored page is self-contained: its inline styles and SVG, nothing fetched, no script, no form, no framing.
REPORT_PAGE_POLICY = policy_header({
    "default-src": ["'none'"],
    "style-src": ["'unsafe-inline'"],
    "img-src": ["data:"],
    "form-action": ["'none'"],
    "frame-ancestors": ["'none'"],
    "sandbox": [],
})


def pdf_response(report):
    response = HttpResponse(bytes(report.pdf), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{report.file_stem}.pdf"'
    return response


def html_response(report):
    response = HttpResponse(report.html, content_type="text/html; charset=utf-8")
    response["Content-Disposition"] = f'inline; filename="{report.file_stem}.html"'
    response["Content-Security-Policy"] = REPORT_PAGE_POLICY
    return response
