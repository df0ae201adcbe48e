"""Full-page screenshots of /cockpit/ on the current database, logged in as the development superuser."""
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.staticfiles.handlers import StaticFilesHandler
from django.core.management.base import BaseCommand, CommandError
from django.test import Client
from django.test.testcases import LiveServerThread

from kpis.management.commands.create_dev_superuser import DEFAULT_USERNAME
from cockpit.browser import CHROMIUM, chromium_available, launch_chromium

# (file name suffix, viewport width): a laptop and a phone.
WIDTHS = [("", 1280), ("-phone", 390)]


class Command(BaseCommand):
    help = (
        "Serve the portal on a free local port and save full-page screenshots of /cockpit/ at laptop (1280 px) "
        "and phone (390 px) widths, logged in as the development superuser. Needs Chromium at /usr/bin/chromium."
    )

    def add_arguments(self, parser):
        parser.add_argument("--output", default="docs/cockpit.png", help="The laptop screenshot; the phone one gets -phone.")
        parser.add_argument("--username", default=DEFAULT_USERNAME)
        parser.add_argument("--path", default="/cockpit/", help="The page to capture, e.g. /cockpit/?company=comp-acme.")

    def handle(self, *args, output, username, path, **options):
        if not chromium_available():
            raise CommandError(f"Chromium is not installed at {CHROMIUM}; install Debian's chromium package.")
        from playwright.sync_api import sync_playwright

        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"username: there is no user '{username}'; run `manage.py create_dev_superuser` first.")
        # The test client's force_login writes a real session; its cookie logs the browser in without a password.
        client = Client()
        client.force_login(user)
        session_id = client.cookies[settings.SESSION_COOKIE_NAME].value
        server = LiveServerThread("127.0.0.1", StaticFilesHandler, port=0)
        server.daemon = True
        server.start()
        server.is_ready.wait()
        if server.error:
            raise CommandError(f"The server did not start: {server.error}")
        target = Path(output)
        target.parent.mkdir(parents=True, exist_ok=True)
        base = f"http://127.0.0.1:{server.port}"
        try:
            with sync_playwright() as playwright:
                browser = launch_chromium(playwright)
                for suffix, width in WIDTHS:
                    context = browser.new_context(viewport={"width": width, "height": 900}, device_scale_factor=1)
                    context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": session_id, "url": base}])
                    page = context.new_page()
                    response = page.goto(base + path)
                    if response is None or response.status != 200:
                        raise CommandError(f"{path} answered {response.status if response else 'nothing'}.")
                    file = target.with_name(target.stem + suffix + target.suffix)
                    page.screenshot(path=str(file), full_page=True)
                    context.close()
                    self.stdout.write(f"Wrote {file} ({width} px wide).")
                browser.close()
        finally:
            server.terminate()
