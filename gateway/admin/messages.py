"""Search the SMS ledger by phone or appointment reference, with every send attempt."""
from __future__ import annotations

import csv
import datetime as dt
import io
import re
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from gateway.storage import Appointment, Beneficiary, Message
from gateway.text.phones import InvalidPhone, mask_phone, parse_phone
from gateway.text.times import as_utc

from .auth import Principal
from .stats import scope_messages, scope_phones

REFERENCE = re.compile(r"^[A-Z0-9]{6,10}$")
EXPORT_COLUMNS = ["id", "created_at", "phone", "kind", "status", "provider", "lang",
                  "segments", "attempts", "status_reason"]


class SearchError(ValueError):
    """The query is neither a phone number nor a reference."""


# the console's status filter: what an officer asks, and the ledger statuses it means
STATUS_GROUPS = {"failed": ("failed", "undelivered", "expired"), "waiting": ("queued", "sending"),
                 "sent": ("sent",), "delivered": ("delivered",)}


def search(session: Session, who: Principal, query: str, limit: int = 200,
           status: str = "") -> list[Message]:
    """Messages to a phone (any format), or to the phone of a booking reference."""
    stmt = _with_status(message_query(session, who, query), status)
    return list(session.scalars(stmt.order_by(Message.id.desc()).limit(limit)))


def recent(session: Session, who: Principal, limit: int = 50,
           status: str = "") -> list[Message]:
    stmt = _with_status(message_query(session, who), status)
    return list(session.scalars(stmt.order_by(Message.id.desc()).limit(limit)))


def _with_status(stmt, status: str):
    """Only the messages of one STATUS_GROUPS group ("" or unknown: all)."""
    group = STATUS_GROUPS.get(status)
    return stmt.where(Message.status.in_(group)) if group else stmt


def message_query(session: Session, who: Principal, query: str = ""):
    """A SELECT of the messages in the principal's scope (to the phone ``query`` names,
    when given; SearchError if it names none), attempts loaded, unordered."""
    stmt = select(Message).options(selectinload(Message.attempts))
    if query:
        stmt = stmt.where(Message.phone == _phone_of(session, who, query.strip()))
    return scope_messages(stmt, who)


def _phone_of(session: Session, who: Principal, query: str) -> str:
    """The phone a query names; a reference outside the principal's district is unknown
    (the same answer as a reference that does not exist)."""
    if REFERENCE.match(query.upper()) and not query.isdigit():
        lookup = (select(Beneficiary.phone)
                  .join(Appointment, Appointment.beneficiary_id == Beneficiary.id)
                  .where(Appointment.reference == query.upper()))
        if who.scope:
            lookup = lookup.where(Beneficiary.phone.in_(scope_phones(who)))
        phone = session.scalar(lookup)
        if phone is None:
            raise SearchError(f"no appointment with reference {query.upper()}")
        return phone
    try:
        return parse_phone(query)
    except InvalidPhone:
        raise SearchError("enter a phone number (+91…) or a booking reference") from None


def masked(query: str) -> str:
    """A search as the audit log keeps it: a phone number masked, a reference as typed."""
    try:
        return mask_phone(parse_phone(query))
    except InvalidPhone:
        return query


def message_dict(message: Message, full_phone: bool) -> dict[str, Any]:
    return {"id": message.id, "created_at": message.created_at.isoformat(),
            "phone": message.phone if full_phone else mask_phone(message.phone),
            "kind": message.kind, "status": message.status, "provider": message.provider or "",
            "lang": message.lang, "segments": message.segments, "body": message.body,
            "status_reason": message.status_reason,
            "attempts": [{"provider": a.provider, "outcome": a.outcome, "error": a.error,
                          "error_code": a.error_code, "latency_ms": a.latency_ms,
                          "at": a.at.isoformat()} for a in message.attempts]}


def export(rows: list[dict[str, Any]], zone: ZoneInfo | None = None) -> str:
    """Messages (as ``message_dict`` gives them) as CSV, with the number of attempts; with
    ``zone``, times in that timezone (as the console shows them), its offset included."""
    out = io.StringIO()
    writer = csv.DictWriter(out, EXPORT_COLUMNS, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for row in rows:
        at = dt.datetime.fromisoformat(row["created_at"])
        at = as_utc(at)
        shown = at.astimezone(zone).isoformat(timespec="seconds") if zone else row["created_at"]
        writer.writerow({**row, "created_at": shown, "attempts": len(row["attempts"])})
    return out.getvalue()
