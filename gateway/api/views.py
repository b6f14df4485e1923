"""``/api/v1``: what the console does, as JSON, for API keys scoped by role and district.

Authenticate with ``X-API-Key: vx_…`` (or ``Authorization: Bearer vx_…``). Errors are RFC
9457 problems (errors.py); bad input is a 400 naming the field. Lists are paged by cursor
(pages.py). The OpenAPI document at /api/v1/openapi.json lists exactly these routes.
"""
from __future__ import annotations

import datetime as dt
import json
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, g, jsonify, request
from sqlalchemy import select

from gateway.admin import csvio, stats
from gateway.admin import inventory as inv
from gateway.admin import messages as ledger
from gateway.admin.audit import entries as audit_entries
from gateway.admin.audit import record, record_export
from gateway.admin.auth import UserError, create_user, deactivation_refused, set_active
from gateway.admin.models import AdminUser, ApiKey, AuditEntry, MenuVersion
from gateway.admin.publishing import check_files
from gateway.storage import Center, Message, Slot
from gateway.web.runtime import get_runtime

from . import pages
from .auth import WRITERS, api, suggested
from .errors import error
from .keys import create_key, revoke_key
from .openapi import document

bp = Blueprint("api", __name__, url_prefix="/api/v1")


def _body() -> dict[str, Any]:
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise inv.InventoryError("body", "a JSON object is required")
    return data


def _require_text(body: dict[str, Any], required: tuple[str, ...],
                  optional: tuple[str, ...] = ()) -> None:
    """Raise InventoryError naming the first field that is not a printable string
    (``optional`` fields may also be absent or null)."""
    for name in (*required, *optional):
        value = body.get(name)
        if value is None and name in optional:
            continue
        if not (isinstance(value, str) and value.isprintable()):
            raise inv.InventoryError(name, "must be a string of printable characters")


def _audit(session, action: str, target: str, before: Any, after: Any) -> None:
    record(session, g.api_principal.name, action, target, before, after)


def _date_arg(name: str) -> dt.date | None:
    raw = request.args.get(name, "")
    if not raw:
        return None
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        raise inv.InventoryError(name, "must be a date like 2026-11-23") from None


@bp.get("/openapi.json")
def openapi() -> Response:
    return jsonify(document())


@bp.get("/centers")
@api()
def centers_list() -> Response:
    page, district = pages.requested(), request.args.get("district", "")[:40]
    state = request.args.get("state", "")[:40]
    with get_runtime().db.read() as session:
        # a misspelt filter is refused with close names, not answered empty
        if state:
            state = inv.state_named(session, state)
        if district:
            district = (inv.directory_district(session, state, district)[1] if state
                        else inv.any_directory_district(session, district))
        query = inv.center_query(g.api_principal, request.args.get("q", "")[:80], district,
                                 state=state)
        rows = session.scalars(pages.after(query, Center.id, page)).all()
        return pages.answer("centers", rows, inv.center_dict, page)


@bp.post("/centers")
@api(WRITERS)
def centers_create() -> Response:
    data = inv.parse(inv.CenterIn, _body())
    with get_runtime().db.write() as session:
        center = inv.save_center(session, g.api_principal, data)
        _audit(session, "center.create", f"center {center.code}", None, inv.center_dict(center))
        body = inv.center_dict(center)
    return jsonify(body), 201


@bp.get("/centers/<int:center_id>")
@api()
def centers_get(center_id: int) -> Response:
    with get_runtime().db.read() as session:
        return jsonify(inv.center_dict(inv.get_center(session, g.api_principal, center_id)))


@bp.put("/centers/<int:center_id>")
@api(WRITERS)
def centers_update(center_id: int) -> Response:
    data = inv.parse(inv.CenterIn, _body())
    with get_runtime().db.write() as session:
        center = inv.get_center(session, g.api_principal, center_id)
        before = inv.center_dict(center)
        inv.save_center(session, g.api_principal, data, center)
        _audit(session, "center.update", f"center {center.code}", before,
               inv.center_dict(center))
        return jsonify(inv.center_dict(center))


@bp.get("/centers/<int:center_id>/slots")
@api()
def slots_list(center_id: int) -> Response:
    date_from, date_to, page = _date_arg("from"), _date_arg("to"), pages.requested()
    with get_runtime().db.read() as session:
        center = inv.get_center(session, g.api_principal, center_id)
        query = pages.after(inv.slot_query(center, date_from, date_to), Slot.id, page)
        return pages.answer("slots", session.scalars(query).all(), inv.slot_dict, page)


@bp.post("/centers/<int:center_id>/slots")
@api(WRITERS)
def slots_create(center_id: int) -> Response:
    data = inv.parse(inv.SlotIn, _body())
    with get_runtime().db.write() as session:
        center = inv.get_center(session, g.api_principal, center_id)
        slot = inv.add_slot(session, center, data)
        _audit(session, "slot.create", f"slot {slot.id}", None, inv.slot_dict(slot))
        body = inv.slot_dict(slot)
    return jsonify(body), 201


@bp.post("/centers/<int:center_id>/slots/bulk")
@api(WRITERS)
def slots_bulk(center_id: int) -> Response:
    plan = inv.parse(inv.BulkSlotsIn, _body())
    with get_runtime().db.write() as session:
        center = inv.get_center(session, g.api_principal, center_id)
        counts = inv.bulk_create_slots(session, center, plan)
        _audit(session, "slots.bulk_create", f"center {center.code}", None,
               {**plan.model_dump(mode="json"), **counts})
    return jsonify(counts), 201


@bp.patch("/slots/<int:slot_id>")
@api(WRITERS)
def slots_update(slot_id: int) -> Response:
    capacity = _body().get("capacity")
    if not isinstance(capacity, int) or isinstance(capacity, bool) or capacity < 0:
        raise inv.InventoryError("capacity", "must be a whole number, 0 or more")
    with get_runtime().db.write() as session:
        slot = inv.get_slot(session, g.api_principal, slot_id)
        before = slot.capacity
        inv.set_capacity(session, slot, capacity)
        _audit(session, "slot.capacity", f"slot {slot_id}", {"capacity": before},
               {"capacity": capacity})
        return jsonify(inv.slot_dict(slot))


@bp.get("/messages")
@api()
def messages_search() -> Response:
    query, who, page = request.args.get("q", "").strip()[:40], g.api_principal, \
        pages.requested()
    with get_runtime().db.report() as session:
        try:
            stmt = ledger.message_query(session, who, query)
        except ledger.SearchError as exc:
            return error(400, "invalid", str(exc), field="q")
        found = session.scalars(pages.after(stmt, Message.id, page, newest_first=True)).all()
        return pages.answer("messages", found, lambda m: ledger.message_dict(m, who.is_admin),
                            page)


@bp.get("/stats")
@api()
def stats_view() -> Response:
    runtime, who = get_runtime(), g.api_principal
    now = dt.datetime.now(dt.UTC)
    today = now.astimezone(ZoneInfo(runtime.settings.timezone)).date()
    with runtime.db.report() as session:
        body = {"totals": stats.totals(session, who), "per_hour": stats.per_hour(session, who, now),
                "slot_fill": stats.slot_fill(session, who, today),
                "sms": stats.sms_by_provider(session, who, now),
                "reminders": stats.reminder_reach(session, who, now),
                "upstream": stats.upstream_backlog(session, who)}
    body["queues"] = stats.queue_depths(runtime.queue_redis)
    body["circuits"] = stats.circuit_states(runtime.redis, runtime.settings)
    return jsonify(body)


def _version_dict(row: MenuVersion) -> dict[str, Any]:
    return {"id": row.id, "version": row.version, "author": row.author, "note": row.note,
            "created_at": row.created_at.isoformat()}


@bp.get("/menus/versions")
@api()
def menu_versions() -> Response:
    page = pages.requested()
    with get_runtime().db.read() as session:
        rows = session.scalars(pages.after(select(MenuVersion), MenuVersion.id, page,
                                           newest_first=True)).all()
        return pages.answer("versions", rows, _version_dict, page,
                            live=get_runtime().flows.version)


@bp.post("/menus/versions")
@api(("admin",))
def menu_publish() -> Response:
    """Publish ``files`` (a subset is merged over the live files) after a full check."""
    from gateway.registry.actions import ACTIONS

    runtime, body = get_runtime(), _body()
    files = body.get("files")
    if not isinstance(files, dict) or not files or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in files.items()):
        raise inv.InventoryError("files", "an object of {filename: YAML text} is required")
    live = runtime.menus.live_files()
    unknown = sorted(set(files) - set(live))
    if unknown:
        raise inv.InventoryError("files", f"unknown file(s) {', '.join(unknown)}")
    draft = {**live, **files}
    problems = check_files(draft, set(ACTIONS))
    if problems:
        return error(422, "invalid_menus", f"{len(problems)} problem(s)", field="files",
                     problems=problems)
    note = "".join(ch for ch in str(body.get("note", "")) if ch.isprintable())[:200]
    return _publish(draft, note or "published by API")


@bp.post("/menus/versions/<int:version_id>/rollback")
@api(("admin",))
def menu_rollback(version_id: int) -> Response:
    with get_runtime().db.read() as session:
        row = session.get(MenuVersion, version_id) if inv.valid_id(version_id) else None
        if row is None:
            raise inv.NotFound(f"menu version {version_id}")
        files = json.loads(row.files)
    return _publish(files, f"rollback to #{version_id}")


def _publish(files: dict[str, str], note: str) -> Response:
    runtime = get_runtime()
    before = runtime.flows.version
    with runtime.db.write() as session:
        row = runtime.menus.publish(session, files, g.api_principal.name[:60], note)
        _audit(session, "menus.publish", f"menu version #{row.id}", {"version": before},
               {"version": row.version, "note": note})
        body = _version_dict(row)
    runtime.menus.announce(body["id"])
    return jsonify(body), 201


@bp.get("/export/<kind>.csv")
@api()
def export_csv(kind: str) -> Response:
    """Centers or slots as CSV (the console's export), within the key's district."""
    with get_runtime().db.report() as session:
        if kind == "centers":
            text = csvio.export_centers(session, g.api_principal)
        elif kind == "slots":
            text = csvio.export_slots(session, g.api_principal)
        else:
            raise inv.NotFound(f"export {kind}")
    with get_runtime().db.write() as session:
        record_export(session, g.api_principal.name, f"{kind}.csv", rows=text.count("\n") - 1)
    return Response(text, mimetype="text/csv")


@bp.post("/import/<kind>")
@api(WRITERS)
def import_csv(kind: str) -> Response:
    """Import centers or slots from a text/csv body: all rows, or none and every row error."""
    if kind not in ("centers", "slots"):
        raise inv.NotFound(f"import {kind}")
    text = csvio.read_upload(request)
    importer = csvio.import_centers if kind == "centers" else csvio.import_slots
    with get_runtime().db.write() as session:
        result = importer(session, g.api_principal, text)
        if not result.errors:
            _audit(session, f"{kind}.import", f"{kind} CSV", None,
                   {"created": result.created, "updated": result.updated})
    if result.errors:
        return error(400, "invalid_rows", f"{len(result.errors)} row(s) refused; nothing "
                     "imported", field="body", errors=result.errors)
    return jsonify({"created": result.created, "updated": result.updated})


@bp.get("/users")
@api(("admin",))
def users_list() -> Response:
    page = pages.requested()
    with get_runtime().db.read() as session:
        rows = session.scalars(pages.after(select(AdminUser), AdminUser.id, page)).all()
        return pages.answer("users", rows, _user_dict, page)


@bp.post("/users")
@api(("admin",))
def users_create() -> Response:
    body = _body()
    _require_text(body, ("username", "password", "role"), optional=("district", "state"))
    try:
        with get_runtime().db.write() as session:
            user = create_user(session, body["username"], body["password"], body["role"],
                               body.get("district"), body.get("state"))
            _audit(session, "user.create", f"user {user.username}", None, _user_dict(user))
            created = _user_dict(user)
    except UserError as exc:
        return error(400, "invalid", str(exc), field=exc.field, **suggested(exc.suggestions))
    return jsonify(created), 201


@bp.patch("/users/<int:user_id>")
@api(("admin",))
def users_update(user_id: int) -> Response:
    """Deactivate or reactivate a console user (as the Users page does)."""
    active = _body().get("active")
    if not isinstance(active, bool):
        raise inv.InventoryError("active", "must be true or false")
    with get_runtime().db.write() as session:
        user = session.get(AdminUser, user_id)
        if user is None:
            return error(404, "not_found", f"no user {user_id}")
        refused = "" if active else deactivation_refused(session, None, user)
        if refused:
            return error(409, "last_admin", refused)
        before = _user_dict(user)
        set_active(user, active)
        _audit(session, "user.update", f"user {user.username}", before, _user_dict(user))
        return jsonify(_user_dict(user))


@bp.get("/keys")
@api(("admin",))
def keys_list() -> Response:
    """API keys (never the key itself: only its prefix), newest first."""
    page = pages.requested()
    with get_runtime().db.read() as session:
        rows = session.scalars(pages.after(select(ApiKey), ApiKey.id, page,
                                           newest_first=True)).all()
        return pages.answer("keys", rows, _key_dict, page)


@bp.post("/keys")
@api(("admin",))
def keys_create() -> Response:
    """A new API key; the key is in this answer only (stored as a SHA-256)."""
    body = _body()
    _require_text(body, ("name", "role"), optional=("district", "state"))
    scopes = body.get("scopes")
    if scopes is not None and not (isinstance(scopes, list)
                                   and all(isinstance(s, str) for s in scopes)):
        raise inv.InventoryError("scopes", "must be a list of scope names")
    try:
        with get_runtime().db.write() as session:
            row, key = create_key(session, body["name"], body["role"], body.get("district"),
                                  created_by=g.api_principal.name, scopes=scopes,
                                  state=body.get("state"))
            _audit(session, "key.create", f"key {row.prefix}", None, _key_dict(row))
            created = {**_key_dict(row), "key": key}
    except UserError as exc:
        return error(400, "invalid", str(exc), field=exc.field, **suggested(exc.suggestions))
    return jsonify(created), 201


@bp.delete("/keys/<int:key_id>")
@api(("admin",))
def keys_revoke(key_id: int) -> Response:
    """Revoke an API key; it stops working at once."""
    with get_runtime().db.write() as session:
        row = revoke_key(session, key_id)
        if row is None:
            return error(404, "not_found", f"no key {key_id}")
        _audit(session, "key.revoke", f"key {row.prefix}", None, _key_dict(row))
        return jsonify(_key_dict(row))


def _key_dict(row) -> dict[str, Any]:
    return {"id": row.id, "name": row.name, "prefix": row.prefix, "role": row.role,
            "district": row.district, "state": row.state,
            "scopes": (row.scopes or "").split(),
            "created_by": row.created_by,
            "revoked": row.revoked_at is not None}


def _user_dict(user: AdminUser) -> dict[str, Any]:
    return {"id": user.id, "username": user.username, "role": user.role,
            "district": user.district, "state": user.state, "active": user.active}


@bp.get("/audit")
@api(("admin",))
def audit_list() -> Response:
    page = pages.requested()
    query = audit_entries(request.args.get("action", "")[:40])
    with get_runtime().db.report() as session:
        found = session.scalars(pages.after(query, AuditEntry.id, page,
                                            newest_first=True)).all()
        return pages.answer("entries", found, _entry_dict, page)


def _entry_dict(e: AuditEntry) -> dict[str, Any]:
    return {"id": e.id, "at": e.at.isoformat(), "actor": e.actor, "action": e.action,
            "target": e.target, "before": e.before, "after": e.after}
