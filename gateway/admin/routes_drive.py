"""The drive, live (dashboard), messages, the audit log, users and API keys."""
from __future__ import annotations

import datetime as dt
import json
from zoneinfo import ZoneInfo

from flask import Response, abort, flash, redirect, render_template, request, url_for
from redis.exceptions import RedisError

from gateway.api import keys as api_keys
from gateway.sms import budget
from gateway.web.runtime import get_runtime

from . import audit as audit_log
from . import auth, charts, giveups, stats
from . import inventory as inv
from . import messages as ledger
from .access import (
    admin_required,
    audit,
    audit_export,
    bp,
    current_user,
    login_required,
    principal,
    zone_label,
)
from .models import AdminUser

QUEUE_WORDS = {"otp": "one-time codes", "notify": "booking SMS", "bulk": "reminder SMS",
               "upstream": "portal updates"}
CIRCUIT_WORDS = {"closed": "working", "open": "paused after errors (others used)",
                 "half_open": "being tried again", "half-open": "being tried again",
                 "unknown": "unknown"}
LANG_WORDS = {"en": "English", "hi": "Hindi", "bn": "Bengali"}
STATUS_WORDS = {"queued": "waiting to be sent", "sending": "being sent",
                "sent": "sent, no delivery report yet", "delivered": "delivered",
                "failed": "failed", "undelivered": "not delivered",
                "expired": "too late to send"}


@bp.get("/")
@login_required
def dashboard():
    """The drive at a glance, refreshed every 30 s by admin.js: today's funnel, where
    callers give up, registrations and bookings per hour, slot fill, SMS and the system."""
    runtime, who = get_runtime(), principal()
    now = dt.datetime.now(dt.UTC)
    zone = ZoneInfo(runtime.settings.timezone)
    local_now = now.astimezone(zone)
    midnight = local_now.replace(hour=0, minute=0, second=0, microsecond=0)
    with runtime.db.report() as session:  # the replica when there is one
        hourly = stats.per_hour(session, who, now)
        fill = stats.slot_fill(session, who, local_now.date())
        sms = stats.sms_by_provider(session, who, now)
        reach = stats.reminder_reach(session, who, now)
        totals = stats.totals(session, who)
        backlog = stats.upstream_backlog(session, who)
        funnel = {"dialled": _dialled(runtime, midnight),
                  **stats.funnel(session, who, midnight)}
        sms_today = budget.daily_figure(session, runtime.settings, now)
    zone_name = f"{local_now:%Z}"
    labels = [dt.datetime.fromisoformat(h).astimezone(zone).strftime("%H:00")
              for h in hourly["hours"]]
    return render_template(
        "admin/dashboard.html", sms=sms, reach=reach, totals=totals, fill=fill,
        hourly_chart=charts.bar_chart(
            "Registrations and bookings per hour, last 24 hours", labels,
            {"people registered": hourly["registrations"], "bookings": hourly["bookings"]},
            x_title=f"hour ({zone_name})", y_title="how many"),
        fill_chart=charts.fill_chart(
            "How full the slots are, next 7 days",
            [(r["district"], r["booked"], r["capacity"]) for r in fill]),
        sms_chart=_sms_chart(sms), funnel=funnel, funnel_chart=_funnel_chart(funnel),
        queues=stats.queue_depths(runtime.queue_redis), giveups=_giveups(runtime),
        queue_words=QUEUE_WORDS, circuit_words=CIRCUIT_WORDS, lang_words=LANG_WORDS,
        stage_words=FUNNEL_WORDS, status_words=STATUS_WORDS,
        zone=zone_label(local_now), updated=f"{local_now:%H:%M:%S}",
        circuits=stats.circuit_states(runtime.redis, runtime.settings), backlog=backlog,
        sms_today=sms_today)


FUNNEL_WORDS = {"dialled": "dialled the phone menu", "registered": "registered",
                "booked": "booked", "reminded": "reminders sent",
                "reached": "reminders delivered", "vaccinated": "vaccinated"}


def _funnel_chart(funnel: dict[str, int]):
    return charts.bar_chart("Today so far", [FUNNEL_WORDS[k] for k in funnel],
                            {"today": list(funnel.values())}, y_title="how many")


def _dialled(runtime, since: dt.datetime) -> int | None:
    try:
        return giveups.dialled(runtime.redis, since)
    except RedisError:
        return None


def _giveups(runtime) -> list[dict] | None:
    """Where callers gave up (None when Redis does not answer)."""
    try:
        return giveups.summary(runtime.redis)
    except RedisError:
        return None


def _sms_chart(rows: list[dict]):
    providers = sorted({r["provider"] for r in rows})
    statuses = sorted({r["status"] for r in rows})
    series = {s: [sum(r["count"] for r in rows if r["provider"] == p and r["status"] == s)
                  for p in providers] for s in statuses}
    return charts.bar_chart("SMS by provider and what happened to them, last 7 days",
                            providers, series, x_title="provider", y_title="SMS",
                            stacked=True)


@bp.get("/messages")
@login_required
def messages():
    """Search the SMS ledger by phone or reference; ``?export=1`` downloads CSV."""
    runtime, who = get_runtime(), principal()
    query, error = request.args.get("q", "").strip()[:40], None
    status = request.args.get("status", "")
    status = status if status in ledger.STATUS_GROUPS else ""
    with runtime.db.report() as session:
        try:
            found = ledger.search(session, who, query, status=status) if query else \
                ledger.recent(session, who, status=status)
        except ledger.SearchError as exc:
            found, error = [], str(exc)
        rows = [ledger.message_dict(m, who.is_admin) for m in found]
    if request.args.get("export"):
        audit_export("sms.csv", rows=len(rows), query=ledger.masked(query))
        zone = ZoneInfo(runtime.settings.timezone)
        return Response(ledger.export(rows, zone), mimetype="text/csv",
                        headers={"Content-Disposition": "attachment; filename=sms.csv"})
    return render_template("admin/messages.html", rows=rows, q=query, error=error,
                           status=status, statuses=ledger.STATUS_GROUPS), \
        400 if error else 200


@bp.get("/audit")
@admin_required
def audit_page():
    action = request.args.get("action", "")[:40]
    with get_runtime().db.report() as session:
        entries = audit_log.recent(session, action=action)
    return render_template("admin/audit.html", entries=entries, action=action,
                           audit_diff=_audit_diff)


def _audit_diff(after: str) -> dict:
    """The ``after`` of an audit entry that carries a menu diff (else {})."""
    try:
        found = json.loads(after) if after.startswith("{") else {}
    except ValueError:
        return {}
    return found if isinstance(found, dict) and found.get("diff") else {}


@bp.get("/users")
@admin_required
def users(new_key: str | None = None):
    """Users and API keys; ``new_key`` is shown once, right after it was created."""
    with get_runtime().db.read() as session:
        people = session.query(AdminUser).order_by(AdminUser.username).all()
        keys = api_keys.list_keys(session)
    return render_template("admin/users.html", users=people, keys=keys, new_key=new_key)


@bp.post("/users")
@admin_required
def user_create():
    form = request.form
    try:
        with get_runtime().db.write() as session:
            user = auth.create_user(session, form.get("username", ""), form.get("password", ""),
                                    form.get("role", ""), form.get("district"),
                                    form.get("state"))
            audit(session, "user.create", f"user {user.username}", None,
                  {"username": user.username, "role": user.role, "district": user.district,
                   "state": user.state})
    except auth.UserError as exc:
        flash(f"User not created: {exc}", "error")
    else:
        flash(f"User {user.username} created.")
    return redirect(url_for("admin.users"))


@bp.post("/users/<int:user_id>/active")
@admin_required
def user_active(user_id: int):
    """Deactivate or reactivate a user (either clears a lock-out); nobody deactivates
    themself or the last active admin."""
    active = request.form.get("active") == "1"
    with get_runtime().db.write() as session:
        user = session.get(AdminUser, user_id) if inv.valid_id(user_id) else None
        if user is None:
            abort(404)
        refused = "" if active else auth.deactivation_refused(session, current_user().id, user)
        if refused:
            flash(refused, "error")
            return redirect(url_for("admin.users"))
        before = {"active": user.active}
        auth.set_active(user, active)
        audit(session, "user.active", f"user {user.username}", before, {"active": user.active})
    flash(f"{user.username} {'reactivated' if active else 'deactivated'}.")
    return redirect(url_for("admin.users"))


@bp.post("/keys")
@admin_required
def key_create():
    """Create an API key; it is shown once, on this page, and stored only as a hash."""
    form = request.form
    try:
        with get_runtime().db.write() as session:
            row, key = api_keys.create_key(session, form.get("name", ""), form.get("role", ""),
                                           form.get("district"), principal().name,
                                           scopes=form.getlist("scopes") or None,
                                           state=form.get("state"))
            audit(session, "api_key.create", f"key {row.prefix}", None,
                  {"name": row.name, "role": row.role, "district": row.district,
                   "state": row.state, "scopes": row.scopes})
    except auth.UserError as exc:
        flash(f"Key not created: {exc}", "error")
        return redirect(url_for("admin.users"))
    return users(new_key=key)


@bp.post("/keys/<int:key_id>/revoke")
@admin_required
def key_revoke(key_id: int):
    with get_runtime().db.write() as session:
        row = api_keys.revoke_key(session, key_id)
        if row is None:
            abort(404)
        audit(session, "api_key.revoke", f"key {row.prefix}", {"revoked": False},
              {"revoked": True})
    return redirect(url_for("admin.users"))
