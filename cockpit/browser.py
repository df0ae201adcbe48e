"""Headless Chromium for the cockpit's screenshots and browser tests: Debian's build, never a downloaded one."""
import os

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
# No sandbox (containers and CI run as root), no GPU, and nothing that reaches out to the internet.
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium_available():
    return os.access(CHROMIUM, os.X_OK)


def launch_chromium(playwright):
    """A headless Chromium browser from Playwright's sync API, using the system's Chromium."""
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
