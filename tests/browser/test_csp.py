"""The Content-Security-Policy blocks nothing the console, the simulator or rq-dashboard
need: a real browser reports no violation while they are used."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from gateway.storage import Center

from .conftest import Phone, sign_in

pytestmark = pytest.mark.usefixtures("users")


@pytest.fixture
def violations(page) -> list[str]:
    """Every CSP violation the page reports (console errors and securitypolicyviolation)."""
    found: list[str] = []
    page.on("console", lambda msg: found.append(msg.text)
            if "Content Security Policy" in msg.text else None)
    page.add_init_script("document.addEventListener('securitypolicyviolation', e =>"
                         " console.error('Content Security Policy: ' + e.violatedDirective"
                         " + ' ' + e.blockedURI + ' on ' + location.pathname))")
    return found


def test_the_pages_run_under_the_policy_without_a_violation(page, db, violations):
    with db.read() as session:
        center = session.scalar(select(Center.id).where(Center.district == "Patna"))
    sign_in(page)
    page.goto(f"/admin/lists?center_id={center}")
    page.evaluate("window.print = () => { window.printed = true; }")  # no print dialog
    page.click("button[data-print]")  # wired by /admin/static/admin.js, not inline
    assert page.evaluate("window.printed") is True
    page.goto("/admin/rq/")
    page.wait_for_selector("#queues tbody tr")  # rows drawn by its (eval'd) templates
    # its buttons post with jQuery and no CSRF token; the browser's Origin lets them through
    status = page.evaluate("$.post('/admin/rq/queue/otp/failed/empty').then((d, s, x) => x.status)")
    assert status == 200
    assert Phone(page).dial().strip()  # the simulator's scripts ran: a screen shows
    assert not violations, violations
