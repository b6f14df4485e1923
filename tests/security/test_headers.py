"""Security headers, the session cookie's flags, HSTS only over TLS (and X-Forwarded-Proto
only from a trusted proxy), templates that need no inline script, and error pages that
never show a traceback, the configuration or a secret."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from gateway import create_app
from gateway.config import WebSettings

PAGES = ["/admin/login", "/simulator/", "/api/v1/openapi.json", "/healthz", "/admin/nothing",
         "/api/v1/nothing"]
SECRET = "s3cret-key-that-must-never-show-7f3a9c"
TEMPLATES = Path(__file__).resolve().parents[2] / "gateway"


def _app(settings, **web):
    return create_app(settings.model_copy(update={"web": WebSettings(**web)}))


def _csp(response) -> dict[str, str]:
    policy = response.headers["Content-Security-Policy"]
    return {part.split()[0]: part.strip() for part in policy.split(";")}


@pytest.mark.parametrize("path", PAGES)
def test_every_answer_carries_the_security_headers(client, path):
    response = client.get(path)
    csp = _csp(response)
    assert csp["frame-ancestors"] == "frame-ancestors 'none'"
    assert csp["default-src"] == "default-src 'self'"
    assert csp["object-src"] == "object-src 'none'"
    assert "unsafe-inline" not in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["X-Frame-Options"] == "DENY"


def test_console_and_api_answers_are_not_cached(client, auth, keys):
    auth.login("root")
    assert client.get("/admin/").headers["Cache-Control"] == "no-store"
    api = client.get("/api/v1/centers", headers={"X-API-Key": keys["admin"]})
    assert api.headers["Cache-Control"] == "no-store"


def test_an_inline_script_runs_only_with_this_requests_nonce(client):
    """The simulator's one inline script carries the nonce the policy names, fresh each time."""
    nonces = []
    for _ in range(2):
        response = client.get("/simulator/")
        page = response.get_data(as_text=True)
        nonce = re.search(r'<script nonce="([^"]+)">', page).group(1)
        assert f"'nonce-{nonce}'" in _csp(response)["script-src"]
        nonces.append(nonce)
    assert nonces[0] != nonces[1]
    assert "nonce-" not in client.get("/admin/login").headers["Content-Security-Policy"]


def test_only_rq_dashboard_pages_allow_inline_scripts(client, auth):
    """rq-dashboard ships an inline script; its pages alone allow one, still unframeable."""
    auth.login("root")
    response = client.get("/admin/rq/")
    assert response.status_code == 200
    csp = _csp(response)
    assert "'unsafe-inline'" in csp["script-src"]
    assert csp["frame-ancestors"] == "frame-ancestors 'none'"


def test_no_template_needs_an_inline_handler_style_or_unnonced_script():
    """What the policy would block in a browser, caught here for every template."""
    problems = []
    for path in sorted(TEMPLATES.rglob("templates/**/*.html")):
        text = path.read_text(encoding="utf-8")
        for pattern, what in ((r"\son[a-z]+\s*=", "inline event handler"),
                              (r"\sstyle\s*=", "style attribute"),
                              (r"<(script|style)(?![^>]*\b(src|nonce)=)[^>]*>",
                               "inline <script>/<style> without a nonce"),
                              (r"javascript:", "javascript: URL")):
            if re.search(pattern, text, re.IGNORECASE):
                problems.append(f"{path.relative_to(TEMPLATES)}: {what}")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("web, base, forwarded, hsts", [
    ({}, "http://localhost", None, False),
    ({}, "https://localhost", None, True),
    ({}, "http://localhost", "https", False),  # nobody trusted: the header is ignored
    ({"trust_proxy": 1}, "http://localhost", "https", True),
    ({"trust_proxy": 1}, "http://localhost", "http", False),
    ({"hsts_seconds": 0}, "https://localhost", None, False),
], ids=["http", "tls", "spoofed-proto", "trusted-proxy-tls", "trusted-proxy-http", "off"])
def test_hsts_only_when_the_request_came_over_tls(settings, db, redis_client, web, base,
                                                  forwarded, hsts):
    client = _app(settings, **web).test_client()
    headers = {"X-Forwarded-Proto": forwarded} if forwarded else {}
    response = client.get("/admin/login", base_url=base, headers=headers)
    assert ("Strict-Transport-Security" in response.headers) is hsts
    if hsts:
        assert response.headers["Strict-Transport-Security"] == "max-age=31536000"


def _session_cookie(client, base: str, forwarded: str | None = None) -> str:
    from tests.admin.conftest import PASSWORD, AuthActions

    headers = {"X-Forwarded-Proto": forwarded} if forwarded else {}
    client.get("/admin/login", base_url=base, headers=headers)
    token = AuthActions(client).csrf()
    response = client.post("/admin/login", base_url=base, headers=headers, data={
        "username": "root", "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 302
    return next(v for v in response.headers.getlist("Set-Cookie") if v.startswith("session="))


@pytest.mark.usefixtures("users")
@pytest.mark.parametrize("web, base, forwarded, secure", [
    ({}, "http://localhost", None, False),
    ({}, "https://localhost", None, True),
    ({}, "http://localhost", "https", False),
    ({"trust_proxy": 1}, "http://localhost", "https", True),
    ({"secure_cookie": "always"}, "http://localhost", None, True),
], ids=["http", "tls", "spoofed-proto", "trusted-proxy-tls", "always"])
def test_the_session_cookie_is_httponly_lax_and_secure_over_tls(settings, db, redis_client,
                                                                 web, base, forwarded, secure):
    cookie = _session_cookie(_app(settings, **web).test_client(), base, forwarded)
    flags = {part.strip().split("=")[0].lower(): part for part in cookie.split(";")}
    assert "httponly" in flags
    assert flags["samesite"].strip() == "SameSite=Lax"
    assert ("secure" in flags) is secure


@pytest.fixture
def production_like(settings, db, redis_client, monkeypatch):
    """The app as deployed (not in testing mode), with a known secret key, and a view of
    each area made to raise an error whose text names the secret."""
    app = create_app(settings.model_copy(update={"testing": False, "secret_key": SECRET}))

    def explode(*_args, **_kwargs):
        raise RuntimeError(f"boom: {app.config['SECRET_KEY']} {app.config}")

    for endpoint in ("admin.login", "api.openapi", "simulator.phone", "health.healthz"):
        monkeypatch.setitem(app.view_functions, endpoint, explode)
    return app.test_client()


@pytest.mark.parametrize("method, path, status", [
    ("get", "/admin/login", 500), ("get", "/api/v1/openapi.json", 500),
    ("get", "/simulator/", 500), ("get", "/healthz", 500),
    ("get", "/admin/no-such-page", 404), ("get", "/api/v1/no-such-thing", 404),
    ("get", "/no-such-thing", 404), ("delete", "/admin/login", 405),
    ("put", "/api/v1/openapi.json", 405), ("get", "/ussd/africastalking", 405),
])
def test_error_pages_show_no_traceback_config_or_secret(production_like, method, path, status):
    response = getattr(production_like, method)(path)
    body = response.get_data(as_text=True)
    assert response.status_code == status
    for leak in (SECRET, "Traceback", "boom", "SECRET_KEY", "RuntimeError", 'File "',
                 "sqlite:", "redis:"):
        assert leak not in body, f"{path} {status} shows {leak!r}"
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
