"""Centers and slots in the console: list, search, create, edit, deactivate; bulk slots;
CSV export and import with an error per row. District users see only their district."""
from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Response, abort, flash, redirect, render_template, request, url_for
from werkzeug.datastructures import MultiDict

from gateway.web.runtime import get_runtime

from . import csvio
from . import inventory as inv
from .access import audit, audit_export, bp, login_required, principal, writer_required


def parse_windows(text: str) -> list[tuple[str, str]]:
    """"09:00-11:00, 14:00-16:00" -> [("09:00", "11:00"), ("14:00", "16:00")]."""
    windows = []
    for part in text.replace(";", ",").split(","):
        start, sep, end = part.strip().partition("-")
        if part.strip():
            if not sep:
                raise inv.InventoryError("windows", f"{part.strip()!r} is not like 09:00-11:00")
            windows.append((start.strip(), end.strip()))
    return windows


def bulk_form(form: MultiDict) -> dict[str, Any]:
    """The bulk-slots form as the BulkSlotsIn fields."""
    data: dict[str, Any] = {k: form.get(k) for k in ("date_from", "date_to", "vaccine",
                                                     "capacity") if form.get(k)}
    data["windows"] = parse_windows(form.get("windows", ""))
    if form.getlist("age_groups"):
        data["age_groups"] = form.getlist("age_groups")
    if form.getlist("weekdays"):
        data["weekdays"] = [int(d) for d in form.getlist("weekdays") if d.isdigit()]
    return data


@bp.get("/centers")
@login_required
def centers():
    q, district = request.args.get("q", "")[:80], request.args.get("district", "")[:40]
    with get_runtime().db.read() as session:
        rows = inv.search_centers(session, principal(), q, district)
    return render_template("admin/centers.html", centers=rows, q=q, district=district)


@bp.route("/centers/new", methods=["GET", "POST"])
@writer_required
def center_new():
    who = principal()
    values = request.form.to_dict() or {"state": who.scope_state or "",
                                        "district": who.scope or "", "active": "on"}
    if request.method == "GET":
        return render_template("admin/center_form.html", center=None, values=values)
    try:
        with get_runtime().db.write() as session:
            center = inv.save_center(session, who, inv.parse(inv.CenterIn, _center_form()))
            audit(session, "center.create", f"center {center.code}", None,
                  inv.center_dict(center))
            center_id = center.id
    except inv.InventoryError as exc:
        return render_template("admin/center_form.html", center=None, values=values,
                               error=exc), 400
    flash("Center created.")
    return redirect(url_for("admin.center", center_id=center_id))


@bp.route("/centers/<int:center_id>", methods=["GET", "POST"])
@login_required
def center(center_id: int):
    """A center with its slots; POST saves the center's details (writers only)."""
    runtime, who, error = get_runtime(), principal(), None
    if request.method == "POST":
        if not who.can_write:
            abort(403)
        error = _save_center(center_id)
        if error is None:
            flash("Center saved.")
            return redirect(url_for("admin.center", center_id=center_id))
    today = dt.date.today()
    with runtime.db.read() as session:
        found = _center_or_404(session, center_id)
        slots = inv.list_slots(session, found, today - dt.timedelta(days=1),
                               today + dt.timedelta(days=30))
        values = request.form.to_dict() if error else inv.center_form_values(session, found)
    return render_template("admin/center.html", center=found, slots=slots, values=values,
                           error=error), 400 if error else 200


def _save_center(center_id: int) -> inv.InventoryError | None:
    try:
        with get_runtime().db.write() as session:
            found = _center_or_404(session, center_id)
            before = inv.center_dict(found)
            inv.save_center(session, principal(), inv.parse(inv.CenterIn, _center_form()), found)
            audit(session, "center.update", f"center {found.code}", before,
                  inv.center_dict(found))
    except inv.InventoryError as exc:
        return exc
    return None


def _center_form() -> dict[str, Any]:
    data = {k: v for k, v in request.form.to_dict().items()
            if v.strip() or k not in ("latitude", "longitude")}  # blank: the PIN code's point
    data["active"] = "active" in request.form
    return data


def _center_or_404(session, center_id: int):
    try:
        return inv.get_center(session, principal(), center_id)
    except inv.NotFound:
        abort(404)


@bp.post("/centers/<int:center_id>/slots")
@writer_required
def slots_bulk(center_id: int):
    """Create slots over a date range and time windows (existing ones are kept)."""
    try:
        with get_runtime().db.write() as session:
            found = _center_or_404(session, center_id)
            plan = inv.parse(inv.BulkSlotsIn, bulk_form(request.form))
            counts = inv.bulk_create_slots(session, found, plan)
            audit(session, "slots.bulk_create", f"center {found.code}", None,
                  {**plan.model_dump(mode="json"), **counts})
    except inv.InventoryError as exc:
        flash(f"Slots not created: {exc}", "error")
    else:
        flash(f"{counts['created']} slots created, {counts['skipped']} already existed.")
    return redirect(url_for("admin.center", center_id=center_id))


@bp.post("/slots/<int:slot_id>/capacity")
@writer_required
def slot_capacity(slot_id: int):
    """Change one slot's capacity; refused (with the numbers) below what is booked."""
    raw = request.form.get("capacity", "")
    with get_runtime().db.write() as session:
        try:
            slot = inv.get_slot(session, principal(), slot_id)
        except inv.NotFound:
            abort(404)
        center_id, before = slot.center_id, slot.capacity
        try:
            if not raw.strip().isdigit():
                raise inv.InventoryError("capacity", "must be a whole number")
            inv.set_capacity(session, slot, int(raw))
            audit(session, "slot.capacity", f"slot {slot_id}", {"capacity": before},
                  {"capacity": slot.capacity})
        except inv.InventoryError as exc:
            flash(f"Slot {slot_id}: capacity not changed: {exc}", "error")
    return redirect(url_for("admin.center", center_id=center_id))


@bp.get("/export/<kind>.csv")
@login_required
def export_csv(kind: str):
    with get_runtime().db.read() as session:
        if kind == "centers":
            text = csvio.export_centers(session, principal())
        elif kind == "slots":
            text = csvio.export_slots(session, principal())
        else:
            abort(404)
    audit_export(f"{kind}.csv", rows=text.count("\n") - 1)
    return Response(text, mimetype="text/csv", headers={
        "Content-Disposition": f"attachment; filename={kind}.csv"})


@bp.post("/import/<kind>")
@writer_required
def import_csv(kind: str):
    """Import centers or slots from an uploaded CSV: all rows, or none and every error."""
    if kind not in ("centers", "slots"):
        abort(404)
    text = csvio.read_upload(request)
    importer = csvio.import_centers if kind == "centers" else csvio.import_slots
    with get_runtime().db.write() as session:
        result = importer(session, principal(), text)
        if not result.errors:
            audit(session, f"{kind}.import", f"{kind} CSV", None,
                  {"created": result.created, "updated": result.updated})
    return render_template("admin/import_result.html", kind=kind, result=result), \
        400 if result.errors else 200
