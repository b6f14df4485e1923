"""The /admin/ blueprint: sign-in, session cookie, CSRF token, role checks, RQ dashboard.

Session cookies are HttpOnly and SameSite=Lax; every POST under /admin/ needs the form's
``csrf_token`` (or an ``X-CSRF-Token`` header) matching the one in the signed session.
``install(app)`` registers the blueprint and mounts rq-dashboard at /admin/rq behind the
same sign-in (reading for every signed-in user, its buttons for admins only, and only from
a page of this site: its posts carry no CSRF token, so their Origin is checked).
"""
from __future__ import annotations

import datetime as dt
import functools
import hmac
import logging
import secrets
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Flask,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from markupsafe import Markup
from redis.exceptions import RedisError

from gateway.attempts import FailureCounter
from gateway.runtime import get_runtime

from . import auth
from .audit import record, record_export
from .csvio import MAX_UPLOAD_BYTES
from .models import AdminUser

bp = Blueprint("admin", __name__, url_prefix="/admin", template_folder="templates",
               static_folder="static")
log = logging.getLogger(__name__)
SESSION_USER, SESSION_CSRF = "admin_uid", "admin_csrf"


def install(app: Flask) -> None:
    """Register /admin/ and mount RQ's dashboard at /admin/rq behind the same login."""
    hours = get_runtime_of(app).settings.admin.session_hours
    app.config.update(SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Lax",
                      PERMANENT_SESSION_LIFETIME=dt.timedelta(hours=hours))
    from . import (  # noqa: F401 - register the routes
        routes_drive,
        routes_inventory,
        routes_lists,
        routes_menus,
    )

    app.register_blueprint(bp)
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


# ---- who is signed in --------------------------------------------------------------

def current_user() -> AdminUser | None:
    """The signed-in, active user of this request (cached on ``g``)."""
    if "admin_user" not in g:
        uid = session.get(SESSION_USER)
        user = None
        if uid:
            with get_runtime().db.read() as db_session:
                user = db_session.get(AdminUser, uid)
        g.admin_user = user if user is not None and user.active else None
    return g.admin_user


def principal() -> auth.Principal:
    user = current_user()
    assert user is not None
    return auth.principal_of(user)


def sign_in(user: AdminUser) -> None:
    session.clear()
    session.permanent = True
    session[SESSION_USER] = user.id
    session[SESSION_CSRF] = secrets.token_urlsafe(24)


def sign_out() -> None:
    session.clear()


def login_required(view: Callable) -> Callable:
    @functools.wraps(view)
    def wrapped(*args: Any, **kwargs: Any):
        if current_user() is None:
            return redirect(url_for("admin.login", next=request.full_path.rstrip("?")))
        return view(*args, **kwargs)
    return wrapped


def role_required(*roles: str) -> Callable:
    """Only users whose role is in ``roles`` (others get 403)."""
    def decorate(view: Callable) -> Callable:
        @functools.wraps(view)
        @login_required
        def wrapped(*args: Any, **kwargs: Any):
            if current_user().role not in roles:
                abort(403)
            return view(*args, **kwargs)
        return wrapped
    return decorate


writer_required = role_required("admin", "district")
admin_required = role_required("admin")


def audit(db_session, action: str, target: str = "", before: Any = None,
          after: Any = None) -> None:
    """Record an admin change in the audit log, in the change's transaction."""
    record(db_session, current_user().username, action, target, before, after)


def audit_export(target: str, **detail: Any) -> None:
    """Record in the audit log that the signed-in user exported ``target``."""
    with get_runtime().db.write() as db_session:
        record_export(db_session, current_user().username, target, **detail)


# ---- CSRF ----------------------------------------------------------------------------

def csrf_token() -> str:
    if SESSION_CSRF not in session:
        session[SESSION_CSRF] = secrets.token_urlsafe(24)
    return session[SESSION_CSRF]


@bp.before_request
def _check_csrf():
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return None
    if request.endpoint == "admin.import_csv":  # the one form that carries a CSV file
        request.max_content_length = MAX_UPLOAD_BYTES
    given = request.form.get("csrf_token") or request.headers.get("X-CSRF-Token", "")
    expected = session.get(SESSION_CSRF, "")
    if not (given and expected and hmac.compare_digest(given, expected)):
        return render_template("admin/error.html", code=400,
                               message="The form expired or was not sent from this site. "
                                       "Go back, reload the page and try again."), 400
    return None


@bp.app_context_processor
def _template_helpers() -> dict[str, Any]:
    def csrf_field() -> Markup:
        return Markup(f'<input type="hidden" name="csrf_token" value="{csrf_token()}">')
    def has_page(endpoint: str) -> bool:
        return endpoint in current_app.view_functions
    return {"csrf_field": csrf_field, "admin_user": current_user, "has_page": has_page}


@bp.errorhandler(403)
def _forbidden(_exc):
    return render_template("admin/error.html", code=403,
                           message="Your role does not allow this."), 403


@bp.errorhandler(404)
def _not_found(_exc):
    return render_template("admin/error.html", code=404, message="Not found."), 404


# ---- sign-in ------------------------------------------------------------------------

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
        message = ("Too many failed attempts: this account is locked for a while."
                   if reason == "locked" else "Wrong username or password.")
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
