"""The /admin/ blueprint: sign-in, session cookie, CSRF token, role checks, RQ dashboard.

Session cookies are HttpOnly and SameSite=Lax; every POST under /admin/ needs the form's
``csrf_token`` (or an ``X-CSRF-Token`` header) matching the one in the signed session.
``install(app)`` registers the blueprint and mounts rq-dashboard at /admin/rq behind the
same sign-in (reading for every signed-in user, its buttons for admins only, and only from
a page of this site: its posts carry no CSRF token, so their Origin is checked).
"""
from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from urllib.parse import urlsplit

from flask import (
    Flask,
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from redis.exceptions import RedisError

from gateway.infra.attempts import FailureCounter
from gateway.web.runtime import get_runtime

from . import auth, giveups
from .access import bp, current_user, sign_in, sign_out
from .audit import record

log = logging.getLogger(__name__)


def install(app: Flask) -> None:
    """Register /admin/ and mount RQ's dashboard at /admin/rq behind the same login."""
    hours = get_runtime_of(app).settings.admin.session_hours
    app.config.update(SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Lax",
                      PERMANENT_SESSION_LIFETIME=dt.timedelta(hours=hours))
    from . import (  # noqa: F401 - register the routes
        routes_drive,
        routes_imports,
        routes_inventory,
        routes_lists,
        routes_menus,
        routes_queues,
        routes_recordings,
        routes_workers,
    )

    app.register_blueprint(bp)
    app.register_blueprint(giveups.bp)
    _mount_rq_dashboard(app)


def get_runtime_of(app: Flask):
    return app.extensions["vaxgate"]


def _mount_rq_dashboard(app: Flask) -> None:
    import rq_dashboard
    from rq_dashboard.web import setup_rq_connection

    app.config.from_object(rq_dashboard.default_settings)
    app.config["RQ_DASHBOARD_REDIS_URL"] = get_runtime_of(app).settings.redis_url_for("queue")
    setup_rq_connection(app)
    app.register_blueprint(rq_dashboard.blueprint, url_prefix="/admin/rq")
    app.before_request(_guard_rq_dashboard)


def _guard_rq_dashboard():
    if request.blueprint != "rq_dashboard":
        return None
    user = current_user()
    if user is None:
        return redirect(url_for("admin.login", next=request.path))
    if request.method == "GET" and request.endpoint == "rq_dashboard.requeue_all":
        abort(405)  # its page posts; a GET that changes things is a link away from CSRF
    if request.method != "GET" and (user.role != "admin" or not _same_origin()):
        abort(403)
    return None


def _same_origin() -> bool:
    """The request was sent by a page of this site (its buttons post with jQuery, which
    carries no CSRF token; browsers send Origin, or at least Referer, on a POST)."""
    sender = request.headers.get("Origin") or request.headers.get("Referer") or ""
    return urlsplit(sender).netloc == request.host


# ---- sign-in ------------------------------------------------------------------------

SIGN_IN_REFUSALS = {
    "locked": "Too many failed attempts: this account is locked for a while.",
    "deactivated": "This account has been deactivated. Ask an admin to reactivate it "
                   "(on the Users page, or with `vaxgate admin reactivate USERNAME`).",
}

def _failed_logins_per_source(runtime) -> FailureCounter:
    return FailureCounter(runtime.redis, "vaxgate:admin:login-fail:source",
                          runtime.settings.admin.max_failed_logins_per_source_per_hour, 3600)


def _guarded(call: Callable, key: str) -> int | None:
    """The per-source count is a second line behind the per-account lock-out: with Redis
    down, sign-in still works (logged), rather than locking every admin out."""
    try:
        return call(key)
    except RedisError as exc:
        log.warning("sign-in limit per source not applied: %s", exc)
        return None


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Sign in; repeated failures lock the account for a while."""
    if request.method == "GET":
        return render_template("admin/login.html", next=request.args.get("next", ""))
    runtime = get_runtime()
    username = request.form.get("username", "")[:60]
    per_source = _failed_logins_per_source(runtime)
    wait_s = _guarded(per_source.retry_after, request.remote_addr or "-") or 0
    if wait_s:
        message = (f"Too many failed sign-ins from your network. Try again in "
                   f"{-(-wait_s // 60)} minutes.")
        return render_template("admin/login.html", error=message, username=username,
                               next=request.form.get("next", "")), 429, \
            {"Retry-After": str(wait_s)}
    with runtime.db.write() as db_session:
        user, reason = auth.authenticate(db_session, username, request.form.get("password", ""),
                                         runtime.settings.admin)
        if user is not None:
            record(db_session, user.username, "login")
    if user is None:
        _guarded(per_source.fail, request.remote_addr or "-")
        message = SIGN_IN_REFUSALS.get(reason, "Wrong username or password.")
        return render_template("admin/login.html", error=message, username=username,
                               next=request.form.get("next", "")), 401
    sign_in(user)
    return redirect(_safe_next(request.form.get("next", "")))


@bp.post("/logout")
def logout():
    sign_out()
    flash("Signed out.")
    return redirect(url_for("admin.login"))


def _safe_next(target: str) -> str:
    """Only local /admin/ paths, never another site."""
    if target.startswith("/admin/") and not target.startswith("//"):
        return target
    return url_for("admin.dashboard")
