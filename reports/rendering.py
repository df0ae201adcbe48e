"""
A report as a self-contained HTML page (inline CSS, inline SVG charts, the system's fonts) and as a PDF printed by
headless Chromium through Playwright. The printing browser reaches nothing: the page is served to it from memory
under a name that resolves nowhere, and every other request is aborted.

Playwright's sync API runs an event loop in the calling thread, during which Django refuses database queries:
callers read everything first, print, then store.
"""
from django.template.loader import render_to_string
from playwright.sync_api import sync_playwright

from cockpit.browser import launch_chromium

# The page's own address while printing: .invalid never resolves (RFC 2606), so nothing can be fetched from it.
PAGE_URL = "http://report.invalid/"
PDF_OPTIONS = {"format": "A4", "print_background": True, "margin": {"top": "14mm", "bottom": "14mm", "left": "12mm", "right": "12mm"}}


def render_html(context):
    return render_to_string("reports/report.html", context)


def print_pdf(html, *, blocked=None):
    """
    The PDF of `html`. Every request other than the page's own is aborted and its URL appended to `blocked`
    (when given), so a caller can tell that the page asked for nothing.
    """

    def serve_only_the_page(route):
        if route.request.url == PAGE_URL:
            route.fulfill(status=200, content_type="text/html; charset=utf-8", body=html)
            return
        if blocked is not None:
            blocked.append(route.request.url)
        route.abort()

    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        try:
            context = browser.new_context(java_script_enabled=False)
            context.route("**/*", serve_only_the_page)
            page = context.new_page()
            page.goto(PAGE_URL, wait_until="load")
            return page.pdf(**PDF_OPTIONS)
        finally:
            browser.close()
