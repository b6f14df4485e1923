"""The drive, live (dashboard), messages, the audit log, users and API keys."""
from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from flask import Response, abort, flash, redirect, render_template, request, url_for

from gateway.api import keys as api_keys
from gateway.web.runtime import get_runtime

from . import audit as audit_log
from . import auth, charts, stats
from . import inventory as inv
from . import messages as ledger
from .access import admin_required, audit, audit_export, bp, login_required, principal
from .models import AdminUser


@bp.get("/")
@login_required
def dashboard():
    """Registrations and bookings per hour, slot fill, SMS, reminders, queues, circuits."""
    runtime, who = get_runtime(), principal()
    now = dt.datetime.now(dt.UTC)
    zone = ZoneInfo(runtime.settings.timezone)
    today = now.astimezone(zone).date()
    with runtime.db.report() as session:  # the replica when there is one
        hourly = stats.per_hour(session, who, now)
        fill = stats.slot_fill(session, who, today)
        sms = stats.sms_by_provider(session, who, now)
        reach = stats.reminder_reach(session, who, now)
        totals = stats.totals(session, who)
        backlog = stats.upstream_backlog(session, who)
    labels = [dt.datetime.fromisoformat(h).astimezone(zone).strftime("%H:00")
              for h in hourly["hours"]]
    hourly_chart = charts.bar_chart("Registrations and bookings per hour (last 24 h)", labels,
                                    {"registrations": hourly["registrations"],
                                     "bookings": hourly["bookings"]}, every_nth_label=3)
    fill_chart = charts.fill_chart("Slot fill by district (next 7 days)",
                                   [(r["district"], r["booked"], r["capacity"]) for r in fill])
    return render_template(
        "admin/dashboard.html", hourly_chart=hourly_chart, fill_chart=fill_chart,
        sms_chart=_sms_chart(sms), sms=sms, reach=reach, totals=totals, fill=fill,
        queues=stats.queue_depths(runtime.queue_redis),
        circuits=stats.circuit_states(runtime.redis, runtime.settings), backlog=backlog)


def _sms_chart(rows: list[dict]):
    providers = sorted({r["provider"] for r in rows})
    statuses = sorted({r["status"] for r in rows})
    series = {s: [sum(r["count"] for r in rows if r["provider"] == p and r["status"] == s)
                  for p in providers] for s in statuses}
    return charts.bar_chart("SMS by provider and status (last 7 days)", providers, series)


@bp.get("/messages")
@login_required
def messages():
    """Search the SMS ledger by phone or reference; ``?export=1`` downloads CSV."""
    runtime, who = get_runtime(), principal()
    query, error = request.args.get("q", "").strip()[:40], None
    with runtime.db.report() as session:
        try:
            found = ledger.search(session, who, query) if query else \
                ledger.recent(session, who)
        except ledger.SearchError as exc:
            found, error = [], str(exc)
        rows = [ledger.message_dict(m, who.is_admin) for m in found]
    if request.args.get("export"):
        audit_export("sms.csv", rows=len(rows), query=ledger.masked(query))
        return Response(ledger.export(rows), mimetype="text/csv",
                        headers={"Content-Disposition": "attachment; filename=sms.csv"})
    return render_template("admin/messages.html", rows=rows, q=query, error=error), \
        400 if error else 200


@bp.get("/audit")
@admin_required
def audit_page():
    action = request.args.get("action", "")[:40]
    with get_runtime().db.report() as session:
        entries = audit_log.recent(session, action=action)
    return render_template("admin/audit.html", entries=entries, action=action)


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
                                    form.get("role", ""), form.get("district"))
            audit(session, "user.create", f"user {user.username}", None,
                  {"username": user.username, "role": user.role, "district": user.district})
    except auth.UserError as exc:
        flash(f"User not created: {exc}", "error")
    else:
        flash(f"User {user.username} created.")
    return redirect(url_for("admin.users"))


@bp.post("/users/<int:user_id>/active")
@admin_required
def user_active(user_id: int):
    """Deactivate or reactivate a user (reactivating also clears a lock-out)."""
    with get_runtime().db.write() as session:
        user = session.get(AdminUser, user_id) if inv.valid_id(user_id) else None
        if user is None:
            abort(404)
        before = {"active": user.active}
        user.active = request.form.get("active") == "1"
        user.failed_logins, user.locked_until = 0, None
        if not user.active:
            auth.end_sessions(user)
        audit(session, "user.active", f"user {user.username}", before, {"active": user.active})
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
                                           scopes=form.getlist("scopes") or None)
            audit(session, "api_key.create", f"key {row.prefix}", None,
                  {"name": row.name, "role": row.role, "district": row.district,
                   "scopes": row.scopes})
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
