"""Lists: who is coming to a center on a day (HTML to print, CSV, PDF) and who was not
reached (resend, printable call list). District users see only their own centers."""
from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from flask import Response, abort, flash, redirect, render_template, request, url_for

from gateway.registry.notifications import enqueue_after_commit
from gateway.reminders import reach
from gateway.sms.outbox import enqueue_messages
from gateway.storage.models import utcnow
from gateway.web.runtime import get_runtime

from . import daylist
from . import inventory as inv
from .access import (
    audit,
    audit_export,
    bp,
    login_required,
    principal,
    writer_required,
    zone_label,
)

FORMATS = ("html", "csv", "pdf")
ONE_DAY = dt.timedelta(days=1)


def _day_and_center(session, who):
    """The date (default today, the deployment's) and center of the request (404 when the
    center is not the user's); 400 for a date that is not one."""
    zone = ZoneInfo(get_runtime().settings.timezone)
    today = dt.datetime.now(zone).date()
    try:
        day = dt.date.fromisoformat(request.values.get("date") or today.isoformat())
    except ValueError:
        abort(400)
    center_id = request.values.get("center_id", type=int)
    center = None
    if center_id:
        try:
            center = inv.get_center(session, who, center_id)
        except inv.NotFound:
            abort(404)
    return today, day, center


def _zone_label() -> str:
    zone = ZoneInfo(get_runtime().settings.timezone)
    return zone_label(dt.datetime.now(zone))


def _subtitle(center) -> str:
    printed = dt.datetime.now(ZoneInfo(get_runtime().settings.timezone))
    return (f"{center.district} · center code {center.code} · printed {printed:%d %b %Y %H:%M} "
            f"· times are {_zone_label()}")


@bp.get("/lists")
@login_required
def lists():
    """Who is coming to a center on a day; ``format=csv|pdf`` downloads it."""
    runtime, who = get_runtime(), principal()
    fmt = request.args.get("format", "html")
    if fmt not in FORMATS:
        abort(400)
    people = []
    with runtime.db.report() as session:  # the replica when there is one
        today, day, center = _day_and_center(session, who)
        centers = inv.search_centers(session, who, include_inactive=False)
        if center:
            people = daylist.people(session, center.id, day, runtime.settings, utcnow())
    if center and fmt != "html":
        return _download(center, day, people, fmt)
    title = f"Who is coming to {center.name} on {day:%a %d %b %Y}" if center else ""
    return render_template("admin/lists.html", centers=centers, center=center, day=day,
                           today=today, one_day=ONE_DAY, people=people, title=title,
                           zone=_zone_label(),
                           counts=_counts(people))


def _counts(people: list[daylist.Person]) -> dict[str, int]:
    counts = dict.fromkeys(("booked", "reminded", "reached", "not reached", "vaccinated",
                            "did not come"), 0)
    for p in people:
        counts[p.status] = counts.get(p.status, 0) + 1
    return counts


def _download(center, day: dt.date, people: list[daylist.Person], fmt: str) -> Response:
    audit_export(f"day list {center.code}", date=day.isoformat(), format=fmt,
                 rows=len(people))
    name = f"{center.code}-{day.isoformat()}.{fmt}"
    headers = {"Content-Disposition": f'attachment; filename="{name}"'}
    if fmt == "csv":
        return Response(daylist.as_csv(people), mimetype="text/csv", headers=headers)
    title = f"Who is coming to {center.name} on {day:%a %d %b %Y}"
    return Response(daylist.as_pdf(title, _subtitle(center), people),
                    mimetype="application/pdf", headers=headers)


@bp.get("/not-reached")
@login_required
def not_reached():
    """Per center and day: the people whose reminder or confirmation did not arrive;
    ``format=pdf`` is the call list for the ASHA worker."""
    runtime, who = get_runtime(), principal()
    people, report = [], None
    with runtime.db.report() as session:
        today, day, center = _day_and_center(session, who)
        centers = inv.search_centers(session, who, include_inactive=False)
        if center:
            people = daylist.not_reached(
                daylist.people(session, center.id, day, runtime.settings, utcnow()))
        state, district = (center.state, center.district) if center else \
            (who.scope_state, who.scope)
        if district:
            report = reach.district_report(session, district, runtime.settings.reminders
                                           .report_days, runtime.settings, utcnow(), state)
    if center and request.args.get("format") == "pdf":
        audit_export(f"call list {center.code}", date=day.isoformat(), rows=len(people))
        title = f"Please call: not reached for {center.name} on {day:%a %d %b %Y}"
        return Response(daylist.call_pdf(title, _subtitle(center), people),
                        mimetype="application/pdf", headers={
                            "Content-Disposition":
                                f'attachment; filename="call-{center.code}-{day}.pdf"'})
    return render_template("admin/not_reached.html", centers=centers, center=center, day=day,
                           today=today, one_day=ONE_DAY, people=people, report=report,
                           report_days=runtime.settings.reminders.report_days,
                           zone=_zone_label())


@bp.post("/not-reached/resend")
@writer_required
def resend():
    """Send one person not reached their reminder again, through another provider first."""
    runtime, who = get_runtime(), principal()
    appointment_id = request.form.get("appointment_id", type=int) or 0
    with runtime.db.write() as session:
        _, day, center = _day_and_center(session, who)
        people = daylist.people(session, center.id, day, runtime.settings, utcnow()) \
            if center else []
        person = next((p for p in daylist.not_reached(people)
                       if p.appointment_id == appointment_id), None)
        if person is None:
            abort(404)
        message_id = reach.resend_to(session, person.appointment_id, runtime.settings,
                                     (daylist.confirmation_key(person.appointment_id),))
        if message_id is not None:
            audit(session, "reminder.resend", f"booking {person.reference}", None,
                  {"message": message_id})
    if message_id is None:
        flash(f"Not sent again to {person.name}: they opted out of reminders or were sent "
              "three already. Please call them.", "error")
    else:
        enqueue_after_commit(lambda ids: enqueue_messages(
            runtime.queue_redis, ids, queue="notify", settings=runtime.settings.sms),
            [message_id])
        flash(f"Reminder sent again to {person.name} ({person.reference}), through another "
              "provider first.")
    return redirect(url_for("admin.not_reached", center_id=center.id, date=day.isoformat()))
