"""Blueprint ``reminders``: day lists, the district reach report, re-send, phone history.

All routes need an API key (``X-API-Key``), as the OTP API does:

- ``GET /api/v1/centers/<id>/day-list?date=YYYY-MM-DD&format=json|csv|html|pdf``
- ``GET /api/v1/districts/<district>/reminders?days=N&state=S``
- ``POST /api/v1/districts/<district>/reminders/resend?state=S`` (``{"days": N}``)

``state`` tells apart a district name two states share (Aurangabad); a district key's own
state stands for it when it is missing.
- ``POST /api/v1/phone-history`` (``{"phone": "+91..."}``; a POST keeps the number out of
  URLs and access logs)
"""
from __future__ import annotations

import datetime as dt
import functools
from typing import Any

from flask import Blueprint, Response, jsonify, render_template, request, stream_with_context

from gateway.admin.audit import record_export
from gateway.admin.inventory import InventoryError
from gateway.api import pages
from gateway.api.auth import key_principal, needed_scope, suggested
from gateway.api.errors import error
from gateway.geo import places
from gateway.reminders import daylists, reach
from gateway.sms import webhooks
from gateway.sms.outbox import enqueue_messages
from gateway.sms.secrets import mask_phone
from gateway.storage import Center
from gateway.storage.ledger import Message
from gateway.storage.models import utcnow
from gateway.text import pdf
from gateway.text.phones import parse_phone
from gateway.web.runtime import get_runtime

bp = Blueprint("reminders", __name__, template_folder="templates")
FORMATS = ("json", "csv", "html", "pdf")


def api_key_required(view):
    """The OTP API's key check in front of a view (deployment keys or SQL API keys)."""
    @functools.wraps(view)
    def guarded(*args: Any, **kwargs: Any) -> Response:
        denied = webhooks._check_api_key(needed_scope())
        return denied if denied is not None else view(*args, **kwargs)
    return guarded


def _out_of_scope(state: str | None, district: str,
                  writes: bool = False) -> Response | None:
    """A 403 when an SQL API key may not see (or change) this district; None if it may.

    Deployment keys (``otp.api_keys_env``) see everything; a district key sees its own.
    """
    who = key_principal()
    if who is None:
        return None
    if writes and not who.can_write:
        return webhooks._error(403, "forbidden", f"the {who.role} role cannot do this")
    if not who.sees(state, district):
        return webhooks._error(403, "forbidden", f"this key is for {who.place} only")
    return None


def _record_export(target: str, **detail: Any) -> None:
    """Audit that this request's key took personal data out (``export``, who, what)."""
    who = key_principal()
    with get_runtime().db.write() as session:
        record_export(session, who.name if who else "deployment key", target, **detail)


def _key_scope() -> tuple[str | None, str | None]:
    """(district, state) an SQL API key is limited to (None: a deployment key or all
    districts; a state of None: that district name in every state)."""
    who = key_principal()
    return (who.scope, who.scope_state) if who is not None else (None, None)


class BadField(ValueError):
    def __init__(self, field: str, message: str, suggestions: list[str] | None = None):
        super().__init__(message)
        self.field, self.suggestions = field, suggestions or []


@bp.errorhandler(BadField)
def _bad_field(exc: BadField) -> Response:
    return error(400, "invalid", f"{exc.field}: {exc}", field=exc.field,
                 **suggested(exc.suggestions))


def _directory_place(district: str) -> tuple[str | None, str]:
    """(``?state=``, ``district``) as India Post's directory spells them; BadField naming
    the field, with close names, for one it does not have (rather than an empty report).
    Without ``?state=``: the key's own for its own district, else the district's only one
    (None for a name two states share: both)."""
    state = request.args.get("state", "")[:40].strip()
    with get_runtime().db.read() as session:
        try:
            if state:
                found_state, found = places.district_named(session, state, district[:40])
                return found_state.name, found.name
            name = places.any_district_named(session, district[:40]).name
        except places.UnknownPlace as exc:
            raise BadField(exc.field, str(exc), exc.suggestions) from None
        own, own_state = _key_scope()
        if own == name and own_state:
            return own_state, name
        states = places.states_with_district(session, name)
        return (states[0] if len(states) == 1 else None), name


@bp.get("/api/v1/centers/<int:center_id>/day-list")
@api_key_required
def day_list(center_id: int) -> Response:
    """The center's appointments on ``date`` with reminder status (JSON, CSV or HTML)."""
    day = _date_arg("date")
    fmt = request.args.get("format", "json")
    if fmt not in FORMATS:
        raise BadField("format", f"must be one of {', '.join(FORMATS)}")
    runtime = get_runtime()
    with runtime.db.report() as session:
        center = session.get(Center, center_id)
    if center is None:
        return webhooks._error(404, "not_found", f"no center {center_id}")
    denied = _out_of_scope(center.state, center.district)
    if denied is not None:
        return denied
    _record_export(f"day list {center.code}", date=day.isoformat(), format=fmt)
    if fmt == "csv":
        return _csv(center, day)
    with runtime.db.report() as session:
        rows = list(daylists.day_rows(session, center.id, day, runtime.settings, utcnow()))
    if fmt == "html":
        return Response(render_template("reminders/day_list.html", center=center, day=day,
                                        rows=rows, offsets=_offset_labels()),
                        mimetype="text/html")
    if fmt == "pdf":
        return _pdf(center, day, rows)
    return jsonify({"center": {"id": center.id, "code": center.code, "name": center.name,
                               "district": center.district},
                    "date": day.isoformat(), "appointments": [daylists.as_dict(r) for r in rows]})


def _csv(center, day: dt.date) -> Response:
    runtime = get_runtime()

    def generate():
        with runtime.db.report() as session:
            rows = daylists.day_rows(session, center.id, day, runtime.settings, utcnow())
            yield from daylists.csv_lines(rows, runtime.settings)

    name = f"{center.code}-{day.isoformat()}.csv"
    return Response(stream_with_context(generate()), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


def _pdf(center, day: dt.date, rows: list) -> Response:
    """The printable day list as a PDF (gateway/text/pdf.py: Indian scripts embedded)."""
    offsets = _offset_labels()
    header = ["#", "time", "reference", "name", "age group", "dose", "booked through",
              "status", *[f"reminder {label}" for label in offsets], "vaccinated"]
    table = [[n, r.window, r.reference, r.name, r.age_group, r.dose, r.booked_via, r.status,
              *[f"{s.status} {s.detail}".strip() for s in r.reminders[:len(offsets)]], ""]
             for n, r in enumerate(rows, 1)]
    body = pdf.table_pdf(f"{center.name} ({center.code}), {center.district}",
                         f"Appointments on {day:%A %d %B %Y}: {len(rows)}", header, table,
                         [3, 8, 7, 16, 6, 4, 11, 8, *[12] * len(offsets), 6])
    name = f"{center.code}-{day.isoformat()}.pdf"
    return Response(body, mimetype="application/pdf",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


@bp.get("/api/v1/districts/<district>/reminders")
@api_key_required
def district_report(district: str) -> Response:
    """Delivered / failed (by reason) / pending reminders for the next ``days`` days."""
    runtime = get_runtime()
    days, (state, district) = _days(request.args.get("days")), _directory_place(district)
    denied = _out_of_scope(state, district)
    if denied is not None:
        return denied
    with runtime.db.report() as session:
        report = reach.district_report(session, district, days, runtime.settings, utcnow(),
                                       state)
    return jsonify(report)


@bp.post("/api/v1/districts/<district>/reminders/resend")
@api_key_required
def resend(district: str) -> Response:
    """Re-send a reminder to everyone in the district whose reminders all failed."""
    runtime = get_runtime()
    days, (state, district) = _days(_body().get("days")), _directory_place(district)
    denied = _out_of_scope(state, district, writes=True)
    if denied is not None:
        return denied
    with runtime.db.write() as session:
        ids = reach.resend_not_reached(session, district, days, runtime.settings, utcnow(),
                                       state)
    if ids:
        enqueue_messages(runtime.queue_redis, ids, queue="bulk", settings=runtime.settings.sms)
    response = jsonify({"district": district, "state": state, "resent": len(ids)})
    response.status_code = 202
    return response


@bp.post("/api/v1/phone-history")
@api_key_required
def phone_history() -> Response:
    """Every message sent to a phone, with every attempt: did this person get the SMS?"""
    raw = str(_body().get("phone", ""))
    try:
        phone = parse_phone(raw)
    except ValueError as exc:
        raise BadField("phone", str(exc)) from None
    page = _page()
    with get_runtime().db.read() as session:
        found = session.scalars(pages.after(reach.phone_messages(phone, *_key_scope()),
                                            Message.id, page, newest_first=True)).all()
        views = {v["id"]: v for v in reach.phone_history(session, found[:page.limit])}
        answer = pages.answer("messages", found, lambda m: views[m.id], page,
                              phone=mask_phone(phone))
    _record_export("phone history", phone=mask_phone(phone), messages=len(views))
    return answer


def _page() -> pages.Page:
    """``?cursor=`` and ``?limit=`` of a paged list (gateway/api/pages.py)."""
    try:
        return pages.requested()
    except InventoryError as exc:
        raise BadField(exc.field, str(exc)) from None


def _date_arg(name: str) -> dt.date:
    try:
        return dt.date.fromisoformat(request.args.get(name, ""))
    except ValueError:
        raise BadField(name, "must be a date, YYYY-MM-DD") from None


def _days(value: Any) -> int:
    if value in (None, ""):
        return get_runtime().settings.reminders.report_days
    try:
        days = int(value)
    except (TypeError, ValueError):
        raise BadField("days", "must be a whole number") from None
    if not 1 <= days <= 30:
        raise BadField("days", "must be between 1 and 30")
    return days


def _body() -> dict[str, Any]:
    data = request.get_json(silent=True) if request.is_json else request.form.to_dict()
    return data if isinstance(data, dict) else {}


def _offset_labels() -> list[str]:
    return [daylists.offset_label(m) for m in get_runtime().settings.reminders.offset_minutes]
