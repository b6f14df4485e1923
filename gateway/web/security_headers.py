"""Security headers on every answer, the session cookie's Secure flag, and which proxy to
believe about TLS (docs/admin.md).

- ``Content-Security-Policy``: only this origin's scripts, styles, images and media; no
  plugins, no ``<base>``, forms post here, and no page may frame ours (``frame-ancestors
  'none'``; ``X-Frame-Options: DENY`` for old browsers). A template that needs an inline
  ``<script>``/``<style>`` writes ``nonce="{{ csp_nonce() }}"``; the nonce is made only then.
  rq-dashboard (mounted at /admin/rq, admins' and signed-in users' only) ships an inline
  script and compiles underscore templates (eval), so its pages alone also allow inline
  scripts and styles and eval.
- ``X-Content-Type-Options: nosniff``, ``Referrer-Policy: same-origin`` (console URLs may
  hold a searched phone number), ``Cache-Control: no-store`` on /admin and /api answers.
- ``Strict-Transport-Security`` only when the request came over TLS. ``request.is_secure``
  believes ``X-Forwarded-Proto`` only through werkzeug's ProxyFix, installed when
  ``web.trust_proxy`` names how many proxies are in front (0: the header is ignored).
- The session cookie is HttpOnly and SameSite=Lax (gateway.admin.web), and Secure whenever
  the request came over TLS (``web.secure_cookie: auto``) or always (``always``).

flask-talisman was considered: it believes ``X-Forwarded-Proto`` from any client (HSTS and
its HTTPS checks), forces Secure cookies unless in debug mode, and has had no release since
2023. What is needed here is a few fixed headers, so a small ``after_request`` hook is it.
"""
from __future__ import annotations

import secrets

from flask import Flask, Response, g, request
from flask.sessions import SecureCookieSessionInterface
from werkzeug.middleware.proxy_fix import ProxyFix

from gateway.config import WebSettings

POLICY = ("default-src 'self'; script-src 'self'{script}; style-src 'self'{style}; "
          "img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; "
          "frame-ancestors 'none'")
INLINE_ALLOWED = {"rq_dashboard"}  # third-party pages with inline scripts (see above)
NO_STORE_PREFIXES = ("/admin/", "/api/")
FIXED = {"X-Content-Type-Options": "nosniff", "Referrer-Policy": "same-origin",
         "X-Frame-Options": "DENY"}


class TlsAwareSessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, Secure when the request itself came over TLS."""

    def get_cookie_secure(self, app: Flask) -> bool:
        return bool(app.config["SESSION_COOKIE_SECURE"] or request.is_secure)

    def open_session(self, app: Flask, request):
        """No cookie (every webhook call): an empty session, without building the signer
        that every USSD step would otherwise pay for."""
        if not request.cookies.get(self.get_cookie_name(app)):
            return self.session_class()
        return super().open_session(app, request)


def install(app: Flask, web: WebSettings) -> None:
    """Wire the headers, the cookie policy and (if configured) ProxyFix into ``app``."""
    if web.trust_proxy:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=web.trust_proxy,  # type: ignore[method-assign]
                                x_proto=web.trust_proxy)
    app.config["SESSION_COOKIE_SECURE"] = web.secure_cookie == "always"
    app.session_interface = TlsAwareSessionInterface()
    app.jinja_env.globals["csp_nonce"] = csp_nonce

    @app.after_request
    def _security_headers(response: Response) -> Response:
        return add_headers(response, web.hsts_seconds)


def csp_nonce() -> str:
    """This request's CSP nonce (made on first use; the policy then allows it)."""
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(16)
    return g.csp_nonce


def content_security_policy() -> str:
    if request.blueprint in INLINE_ALLOWED:
        return POLICY.format(script=" 'unsafe-inline' 'unsafe-eval'", style=" 'unsafe-inline'")
    nonce = f" 'nonce-{g.csp_nonce}'" if "csp_nonce" in g else ""
    return POLICY.format(script=nonce, style=nonce)


def plain_headers(is_secure: bool, hsts_seconds: int) -> list[tuple[str, str]]:
    """The headers of an answer made without Flask (the USSD webhook's WSGI fast path,
    gateway.ussd_menus.adapter): the fixed ones, the policy without a nonce, HSTS over TLS."""
    headers = [*FIXED.items(), ("Content-Security-Policy", POLICY.format(script="", style=""))]
    if is_secure and hsts_seconds:
        headers.append(("Strict-Transport-Security", f"max-age={hsts_seconds}"))
    return headers


def add_headers(response: Response, hsts_seconds: int) -> Response:
    """Set the security headers on ``response`` (kept if a view already set one)."""
    headers = response.headers
    for name, value in FIXED.items():
        headers.setdefault(name, value)
    headers.setdefault("Content-Security-Policy", content_security_policy())
    if request.is_secure and hsts_seconds:
        headers.setdefault("Strict-Transport-Security", f"max-age={hsts_seconds}")
    if request.path.startswith(NO_STORE_PREFIXES) and "Cache-Control" not in headers:
        headers["Cache-Control"] = "no-store"
    return response
