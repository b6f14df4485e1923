"""Who is signed in to /admin/ and what they may do: the blueprint, its session, the
sign-in and role guards, the CSRF check and the audit helpers every route uses.

Routes import from here (flaskr's ``auth.py``); ``web.py`` mounts the blueprint.
"""
from __future__ import annotations

import datetime as dt
import functools
import hmac
import secrets
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

from flask import (
    Blueprint,
    abort,
    current_app,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from markupsafe import Markup

from gateway.text.times import as_utc
from gateway.web.runtime import get_runtime

from . import auth, pickers
from .audit import record, record_export
from .csvio import MAX_UPLOAD_BYTES
from .models import AdminUser

bp = Blueprint("admin", __name__, url_prefix="/admin", template_folder="templates",
               static_folder="static")
SESSION_USER, SESSION_CSRF, SESSION_EPOCH = "admin_uid", "admin_csrf", "admin_epoch"


# ---- who is signed in --------------------------------------------------------------

def current_user() -> AdminUser | None:
    """The signed-in, active user of this request (cached on ``g``)."""
    if "admin_user" not in g:
        uid = session.get(SESSION_USER)
        user = None
        if uid:
            with get_runtime().db.read() as db_session:
                user = db_session.get(AdminUser, uid)
        current = user is not None and user.active and \
            session.get(SESSION_EPOCH) == (user.session_epoch or 0)
        g.admin_user = user if current else None
    return g.admin_user


def principal() -> auth.Principal:
    user = current_user()
    assert user is not None
    return auth.principal_of(user)


def sign_in(user: AdminUser) -> None:
    session.clear()
    session.permanent = True
    session[SESSION_USER] = user.id
    session[SESSION_EPOCH] = user.session_epoch or 0
    session[SESSION_CSRF] = secrets.token_urlsafe(24)


def sign_out() -> None:
    """End this user's sessions on the server (a copied cookie stops working) and this one."""
    uid = session.get(SESSION_USER)
    if uid and current_user() is not None:
        with get_runtime().db.write() as db_session:
            user = db_session.get(AdminUser, uid)
            if user is not None:
                auth.end_sessions(user)
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
    if request.endpoint in ("admin.import_csv", "admin.import_start"):  # forms with a CSV
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
    def district_choices() -> list[tuple[str, list[str]]]:
        return pickers.district_choices(get_runtime().db)
    return {"csrf_field": csrf_field, "admin_user": current_user, "has_page": has_page,
            "district_choices": district_choices}


@bp.app_template_filter("local")
def _local_time(value, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """A UTC time (datetime or ISO text) in the deployment's timezone, for the console."""
    if not value:
        return ""
    at = dt.datetime.fromisoformat(value) if isinstance(value, str) else value
    return as_utc(at).astimezone(ZoneInfo(get_runtime().settings.timezone)).strftime(fmt)


def zone_label(local: dt.datetime) -> str:
    """``IST (UTC+05:30)``: the zone's abbreviation and offset (its IANA name can be a
    district's, Asia/Kolkata, which a district page must not show)."""
    offset = local.strftime("%z")
    return f"{local:%Z} (UTC{offset[:3]}:{offset[3:]})"


@bp.app_template_global("zone_name")
def _zone_name() -> str:
    """The deployment's timezone as the console shows it, e.g. ``IST``."""
    return f"{dt.datetime.now(ZoneInfo(get_runtime().settings.timezone)):%Z}"


@bp.errorhandler(403)
def _forbidden(_exc):
    return render_template("admin/error.html", code=403,
                           message="Your role does not allow this."), 403


@bp.errorhandler(404)
def _not_found(_exc):
    return render_template("admin/error.html", code=404, message="Not found."), 404


