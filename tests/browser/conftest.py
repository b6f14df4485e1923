"""Browser tests: headless Debian chromium driven by Playwright, against the real app served
over HTTP from a thread (real Redis, real database). A failed test leaves a screenshot of
its page under test-artifacts/ (`make browser-deps` installs chromium)."""
from __future__ import annotations

import os
import re
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from tests.admin.conftest import PASSWORD, quick_hashes, users  # noqa: F401 - fixtures

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
LAUNCH_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
               "--no-first-run", "--disable-background-networking",
               "--disable-component-update", "--disable-sync"]

pytestmark = pytest.mark.skipif(not os.access(CHROMIUM, os.X_OK),
                                reason="needs Debian's chromium (make browser-deps)")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)


@pytest.fixture(scope="session")
def browser():
    if not os.access(CHROMIUM, os.X_OK):
        pytest.skip("needs Debian's chromium (make browser-deps)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS,
                                              headless=True)
        yield chromium
        chromium.close()


@pytest.fixture
def live_url(app, demo_centers):
    """The app served over real HTTP on a free local port, for the browser."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=10)


@pytest.fixture
def page(browser, live_url, request):
    context = browser.new_context(base_url=live_url, viewport={"width": 1100, "height": 900})
    context.set_default_timeout(15000)
    tab = context.new_page()
    yield tab
    failed = getattr(request.node, "rep_call", None)
    if failed is not None and failed.failed:
        ARTIFACTS.mkdir(exist_ok=True)
        name = re.sub(r"[^\w.-]+", "_", request.node.nodeid)
        tab.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
    context.close()


def sign_in(page, username: str = "root") -> None:
    page.goto("/admin/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector("text=The drive, live")


class Phone:
    """The on-screen phone of /simulator/."""

    def __init__(self, page, number: str = "+919812345678"):
        self.page = page
        page.goto("/simulator/")
        page.fill("#phone", number)

    def dial(self) -> str:
        return self._await_change(lambda: self.page.click("#dial"))

    def call(self) -> str:
        return self._await_change(lambda: self.page.click("#call"))

    def send(self, *answers: str) -> str:
        text = ""
        for answer in answers:
            self.page.fill("#dialbox", answer)
            text = self._await_change(lambda: self.page.click("#send"))
        return text

    def _await_change(self, action) -> str:
        before = self.page.inner_text("#display")
        action()
        self.page.wait_for_function(
            "([before]) => { const t = document.getElementById('display').textContent;"
            " return t !== before && !/^(Dialling|Calling)/.test(t); }", arg=[before])
        return self.page.inner_text("#display")
