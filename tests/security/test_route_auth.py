"""Every route under /admin and /api refuses a caller who is not signed in / has no API key.

The test walks ``app.url_map`` itself, so a route added tomorrow is checked without anyone
remembering to list it: the console must answer a redirect to the sign-in page (or 401/403),
the JSON API 401 or 403. Only the routes in PUBLIC may answer anything else, each with its
reason. Path parameters are filled with plausible values for their converter (and, for plain
strings, for their name), so the request reaches the view rather than a 404 from the router.
"""
from __future__ import annotations

import re
import uuid
from urllib.parse import urlsplit

import pytest
from flask import Flask

from tests.admin.conftest import AuthActions

PREFIXES = ("/admin", "/api")
SKIPPED_METHODS = {"HEAD", "OPTIONS"}  # HEAD runs the GET view; OPTIONS is Flask's own Allow

# (endpoint, method) pairs that must answer without a session or a key, and why.
PUBLIC = {
    # The sign-in form and its POST: nobody could ever sign in otherwise.
    ("admin.login", "GET"): "the sign-in page",
    ("admin.login", "POST"): "the sign-in form (a wrong password answers 401)",
    # The console's CSS: no data, and the sign-in page needs it before anyone signs in.
    ("admin.static", "GET"): "stylesheet and script of the console",
    # The OpenAPI document describes routes and schemas only (no record, no key, no figure;
    # the same text as gateway/api/openapi.py in the source). Integrators and schemathesis
    # read it before they hold a key, as is usual for an API description.
    ("api.openapi", "GET"): "the API's description, no data",
    # Free slots for partner apps (gateway/api/public.py), as Co-WIN's public API was: the
    # directory's states and districts and centers' free places, no personal data; rate-
    # limited per client address and served from a short cache instead of a key.
    ("public_api.states", "GET"): "states of India Post's directory",
    ("public_api.districts", "GET"): "districts of a state",
    ("public_api.find_by_pin", "GET"): "free places at a PIN code's centers",
    ("public_api.find_by_district", "GET"): "free places at a district's centers",
    ("public_api.calendar_by_pin", "GET"): "seven days of free places at a PIN code",
    ("public_api.calendar_by_district", "GET"): "seven days of free places in a district",
}

# Values for path parameters: by converter, then (for plain strings) by parameter name.
BY_CONVERTER = {"int": "1", "float": "1.5", "path": "admin.css", "uuid": str(uuid.UUID(int=1))}
BY_NAME = {"kind": "centers", "district": "Patna", "name": "main.yaml", "queue_name": "otp",
           "registry_name": "failed", "job_id": "job-1", "order": "asc", "per_page": "10",
           "page": "1", "provider": "twilio"}
PARAMETER = re.compile(r"<(?:(?P<converter>\w+)(?:\([^)]*\))?:)?(?P<name>\w+)>")


def sample_path(rule_text: str) -> str:
    """``rule_text`` with each ``<converter:name>`` replaced by a plausible value."""
    def value(match: re.Match) -> str:
        converter = match.group("converter") or "string"
        return BY_CONVERTER.get(converter) or BY_NAME.get(match.group("name"), "x")
    return PARAMETER.sub(value, rule_text)


def guarded_requests(app: Flask) -> list[tuple[str, str, str]]:
    """(endpoint, method, path) for every rule under /admin and /api that is not PUBLIC."""
    found = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith(PREFIXES):
            continue
        for method in sorted(rule.methods - SKIPPED_METHODS):
            if (rule.endpoint, method) not in PUBLIC:
                found.append((rule.endpoint, method, sample_path(rule.rule)))
    return sorted(found, key=lambda r: (r[2], r[1]))


def refusal_problem(path: str, response) -> str | None:
    """None when ``response`` refuses an anonymous caller; otherwise what is wrong."""
    status = response.status_code
    if path.startswith("/api"):
        return None if status in (401, 403) else f"answered {status}, not 401/403"
    if status in (401, 403):
        return None
    location = urlsplit(response.headers.get("Location", "")).path
    if status in (302, 303) and location == "/admin/login":
        return None
    return f"answered {status} (Location {location!r}), not a redirect to /admin/login"


def unguarded(app: Flask, client, api_key: str | None = None) -> list[str]:
    """Every guarded route that answered an anonymous request (or one with ``api_key``)."""
    headers = {"X-API-Key": api_key} if api_key else {}
    problems = []
    for endpoint, method, path in guarded_requests(app):
        if method != "GET":  # an anonymous session with a CSRF token (signing out drops it),
            headers["X-CSRF-Token"] = AuthActions(client).csrf()  # so the POST reaches the
        response = client.open(path, method=method, headers=headers, json={})  # sign-in check
        problem = refusal_problem(path, response)
        if problem:
            problems.append(f"{method} {path} ({endpoint}): {problem}")
    return problems


def test_the_walk_covers_every_area_under_admin_and_api(app):
    """Guard against the walk silently finding nothing (a renamed prefix, a lost blueprint)."""
    blueprints = {endpoint.split(".")[0] for endpoint, _, _ in guarded_requests(app)}
    assert {"admin", "api", "rq_dashboard", "reminders", "healthworkers_api",
            "sms"} <= blueprints
    assert len(guarded_requests(app)) > 60


def test_every_console_and_api_route_refuses_an_anonymous_caller(app, client):
    problems = unguarded(app, client)
    assert not problems, "routes open without sign-in or API key:\n" + "\n".join(problems)


@pytest.mark.parametrize("key", ["vx_00000000_not-a-key", "not even the shape of a key"])
def test_every_api_route_refuses_an_unknown_api_key(app, client, key):
    problems = [p for p in unguarded(app, client, api_key=key) if " /api/" in p]
    assert not problems, f"routes that accept the key {key!r}:\n" + "\n".join(problems)


def test_a_new_unprotected_route_fails_the_walk_by_name(app, client):
    """The check itself: an open route added to the app is reported by its path."""
    app.add_url_rule("/api/v1/leaky/<int:item_id>", "leaky_api", lambda item_id: "data")
    app.add_url_rule("/admin/leaky", "leaky_admin", lambda: "data", methods=["POST"])
    problems = unguarded(app, client)
    assert any(p.startswith("GET /api/v1/leaky/1 (leaky_api): answered 200") for p in problems)
    assert any(p.startswith("POST /admin/leaky (leaky_admin): answered 200") for p in problems)


# Everything outside /admin and /api, by prefix, and why it answers without a sign-in.
OUTSIDE = {
    "/healthz": "process probe for the load balancer; says only ok",
    "/readyz": "readiness probe; names which dependency is down, no data",
    "/metrics": "Prometheus scrape; counts only (keep it on the internal network)",
    "/ussd/": "the aggregator's callback: source networks / secret (gateway.web.webhook_security)",
    "/ivr/": "voice callbacks (signature or secret) and recorded menu prompts (no one's data)",
    "/sms/": "delivery reports and inbound SMS: signature or secret (gateway.web.webhook_security)",
    "/simulator/": "the demo phone; 404 unless simulator.enabled; sandbox messages only",
    "/static/": "files shipped with the code",
}


def test_every_route_outside_admin_and_api_is_a_known_kind(app):
    """A new top-level route must be classified here (or moved under /admin or /api)."""
    unknown = sorted({rule.rule for rule in app.url_map.iter_rules()
                      if not rule.rule.startswith((*PREFIXES, *OUTSIDE))})
    assert not unknown, f"routes outside /admin and /api nobody classified: {unknown}"


def test_public_routes_still_exist(app):
    """A stale allow-list entry would hide nothing, but says the list is not kept."""
    present = {(rule.endpoint, method) for rule in app.url_map.iter_rules()
               for method in rule.methods}
    assert set(PUBLIC) <= present


def test_the_openapi_document_holds_no_data(client, db):
    """Public by design (see PUBLIC): it must stay a description, with no record in it."""
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert response.json["openapi"].startswith("3.")
    assert not re.search(r"\+91\d{10}|vx_[0-9a-f]{8}_", body)


# Routes a read-only viewer may call although they are not GETs, and why.
VIEWER_MAY = {
    ("admin.login", "POST"): "signing in",
    ("admin.logout", "POST"): "signing out",
    ("reminders.phone_history", "POST"): "a read: POST keeps the phone number out of URLs",
    ("sms.otp_request", "POST"): "the OTP API is for any key the portal holds",
    ("sms.otp_verify", "POST"): "the OTP API is for any key the portal holds",
}
# GET routes that change something (rq-dashboard's "requeue all" answers GET as well).
CHANGING_GETS = {"rq_dashboard.requeue_all"}


def changing_requests(app: Flask) -> list[tuple[str, str, str]]:
    """(endpoint, method, path) of every /admin and /api route that changes something."""
    found = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith(PREFIXES):
            continue
        for method in sorted(rule.methods - SKIPPED_METHODS):
            changes = method != "GET" or rule.endpoint in CHANGING_GETS
            if changes and (rule.endpoint, method) not in VIEWER_MAY:
                found.append((rule.endpoint, method, sample_path(rule.rule)))
    return sorted(found, key=lambda r: (r[2], r[1]))


def test_every_change_refuses_a_viewer(app, client, auth, keys):
    """A viewer (signed in, or with a viewer key) reads; every change answers 403 (or 405,
    for rq-dashboard's GET that would requeue: refused to everyone)."""
    auth.login("watcher")
    problems = []
    for endpoint, method, path in changing_requests(app):
        headers = {"X-API-Key": keys["viewer"], "X-CSRF-Token": auth.csrf("/admin/")}
        response = client.open(path, method=method, headers=headers, json={})
        if response.status_code not in (403, 405):
            problems.append(f"{method} {path} ({endpoint}): answered {response.status_code}")
    assert len(changing_requests(app)) > 30
    assert not problems, "changes a viewer could make:\n" + "\n".join(problems)


@pytest.mark.parametrize("origin, status", [
    ({"Origin": "http://localhost"}, 200), ({"Referer": "http://localhost/admin/rq/"}, 200),
    ({"Origin": "https://evil.example"}, 403), ({}, 403)])
def test_rq_dashboard_buttons_work_only_from_this_site(client, auth, origin, status):
    """rq-dashboard posts without a CSRF token: an admin's browser is refused unless the
    post comes from a page of this site (Origin, else Referer)."""
    auth.login("root")
    response = client.post("/admin/rq/queue/otp/failed/empty", headers=origin)
    assert response.status_code == status
