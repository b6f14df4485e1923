"""Health workers in the console: add one (she sets her PIN on her first dial), list with
last activity, unlock, deactivate or reactivate, and her day (whom she registered, booked,
vaccinated). Reuses ``gateway.healthworkers``; a district user sees their district only."""
from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from flask import abort, flash, redirect, render_template, request, url_for
from sqlalchemy import func, select

from gateway.healthworkers import accounts
from gateway.healthworkers.models import HealthWorker, HealthWorkerAction
from gateway.registry.errors import InvalidField
from gateway.storage import Appointment, Beneficiary, Center
from gateway.text.times import as_utc
from gateway.web.runtime import get_runtime

from . import inventory as inv
from .access import audit, bp, login_required, principal, writer_required

# what a worker did, in words; the day page counts these
ACTION_WORDS = {"register": "registered", "register_existing": "found already registered",
                "book": "booked", "walk_in": "booked as walk-in", "vaccinated": "vaccinated",
                "no_show": "marked did not come", "pin_set": "set her PIN",
                "cancelled": "cancelled"}


@bp.get("/health-workers")
@login_required
def health_workers():
    """Every health worker the user may see, with her center and last activity."""
    runtime, who = get_runtime(), principal()
    zone = ZoneInfo(runtime.settings.timezone)
    with runtime.db.read() as session:
        query = select(HealthWorker, Center, func.max(HealthWorkerAction.at)) \
            .join(Center, Center.id == HealthWorker.center_id) \
            .outerjoin(HealthWorkerAction, HealthWorkerAction.worker_id == HealthWorker.id) \
            .group_by(HealthWorker.id, Center.id).order_by(HealthWorker.name)
        query = query.where(who.within(Center.state, HealthWorker.district))
        rows = [{"worker": w, "center": c, "last": _local(last, zone),
                 "locked": accounts.locked_until(w) is not None}
                for w, c, last in session.execute(query).all()]
        centers = inv.search_centers(session, who, include_inactive=False)
    return render_template("admin/health_workers.html", rows=rows, centers=centers,
                           zone=f"{dt.datetime.now(zone):%Z}")


def _local(at: dt.datetime | None, zone: ZoneInfo) -> str:
    if at is None:
        return ""
    return as_utc(at).astimezone(zone).strftime("%d %b %Y %H:%M")


@bp.post("/health-workers")
@writer_required
def health_worker_create():
    """Add a worker at one of the user's centers."""
    form, who = request.form, principal()
    try:
        with get_runtime().db.write() as session:
            center = session.scalar(select(Center).where(
                Center.code == form.get("center_code", "").strip()))
            if center is None or not who.sees(center.state, center.district):
                raise InvalidField("center_code", "choose one of your centers")
            worker = accounts.create(session, name=form.get("name", ""),
                                     phone=form.get("phone", ""), center_code=center.code)
            audit(session, "health_worker.create", f"health_worker:{worker.id}", None,
                  accounts.describe(session, worker))
    except InvalidField as exc:
        flash(f"Health worker not added: {_field_words(exc.field)}: {exc.reason}", "error")
    else:
        flash(f"{worker.name} added. She sets her 4-6 digit PIN the first time she dials "
              "in from " f"{worker.phone}.")
    return redirect(url_for("admin.health_workers"))


def _field_words(field: str) -> str:
    return {"center_code": "center", "phone": "phone number"}.get(field, field)


def _scoped(session, worker_id: int) -> HealthWorker:
    worker = session.get(HealthWorker, worker_id) if inv.valid_id(worker_id) else None
    center = session.get(Center, worker.center_id) if worker is not None else None
    if worker is None or not principal().sees(center.state if center else None,
                                              worker.district):
        abort(404)
    return worker


@bp.post("/health-workers/<int:worker_id>/unlock")
@writer_required
def health_worker_unlock(worker_id: int):
    """End a PIN lock-out now (wrong PINs counted today are forgotten too)."""
    runtime = get_runtime()
    with runtime.db.write() as session:
        worker = _scoped(session, worker_id)
        before = accounts.describe(session, worker)
        accounts.unlock(session, worker.id, daily=accounts.daily_failures(
            runtime.redis, runtime.settings.health_workers))
        audit(session, "health_worker.unlock", f"health_worker:{worker.id}", before,
              accounts.describe(session, worker))
    flash(f"{worker.name} can sign in with her PIN again.")
    return redirect(url_for("admin.health_workers"))


@bp.post("/health-workers/<int:worker_id>/active")
@writer_required
def health_worker_active(worker_id: int):
    """Deactivate (her phone no longer opens the health-worker menu) or reactivate."""
    active = request.form.get("active") == "1"
    with get_runtime().db.write() as session:
        worker = _scoped(session, worker_id)
        before = {"active": worker.active}
        worker.active = active
        audit(session, "health_worker.active", f"health_worker:{worker.id}", before,
              {"active": active})
    flash(f"{worker.name} {'reactivated' if active else 'deactivated'}.")
    return redirect(url_for("admin.health_workers"))


@bp.get("/health-workers/<int:worker_id>")
@login_required
def health_worker_day(worker_id: int):
    """One worker's day: what she did, and the people she registered, booked, vaccinated."""
    runtime = get_runtime()
    zone = ZoneInfo(runtime.settings.timezone)
    try:
        day = dt.date.fromisoformat(request.args.get("date") or
                                    dt.datetime.now(zone).date().isoformat())
    except ValueError:
        abort(400)
    start = dt.datetime.combine(day, dt.time(), zone)
    with runtime.db.read() as session:
        worker = _scoped(session, worker_id)
        center = session.get(Center, worker.center_id)
        actions = session.scalars(select(HealthWorkerAction).where(
            HealthWorkerAction.worker_id == worker.id, HealthWorkerAction.at >= start,
            HealthWorkerAction.at < start + dt.timedelta(days=1))
            .order_by(HealthWorkerAction.id)).all()
        rows = [{"at": _local(a.at, zone)[-5:], "what": ACTION_WORDS.get(a.action, a.action),
                 "who": _subject(session, a.subject), "channel": a.channel}
                for a in actions]
    counts = {}
    for r in rows:
        counts[r["what"]] = counts.get(r["what"], 0) + 1
    return render_template("admin/health_worker.html", worker=worker, center=center, day=day,
                           rows=rows, counts=counts, zone=f"{dt.datetime.now(zone):%Z}")


def _subject(session, subject: str) -> str:
    """A person's name for an action's subject: a beneficiary id or a booking reference."""
    if subject.isdigit():
        name = session.scalar(select(Beneficiary.name).where(Beneficiary.id == int(subject)))
    else:
        name = session.scalar(select(Beneficiary.name).join(
            Appointment, Appointment.beneficiary_id == Beneficiary.id)
            .where(Appointment.reference == subject)) if subject else None
    return f"{name} ({subject})" if name else subject
