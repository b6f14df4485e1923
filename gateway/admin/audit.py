"""The audit log: every admin change as who, what, and the record before and after; every
export of personal data as who and what (action ``export``)."""
from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.storage.retention import Rule

from .models import AuditEntry

RETENTION = Rule("audit_entries", AuditEntry, lambda: AuditEntry.at, "audit_days",
                 lambda: AuditEntry.id.is_not(None))


def record(session: Session, actor: str, action: str, target: str = "",
           before: Any = None, after: Any = None) -> AuditEntry:
    """Add one audit entry in the caller's transaction (so it commits with the change)."""
    entry = AuditEntry(actor=actor[:80], action=action[:40], target=target[:120],
                       before=_dump(before), after=_dump(after))
    session.add(entry)
    return entry


def record_export(session: Session, actor: str, target: str, **detail: Any) -> AuditEntry:
    """Record that ``actor`` took data out (a CSV, a day list, a phone's messages):
    action ``export``, ``target`` naming what, ``detail`` (rows, district, date...) as
    ``after``. Callers pass no full phone number or other personal data in ``detail``."""
    return record(session, actor, "export", target, None, detail or None)


def recent(session: Session, limit: int = 200, action: str = "") -> list[AuditEntry]:
    """The newest entries first, optionally only one kind of action."""
    return list(session.scalars(entries(action).order_by(AuditEntry.id.desc()).limit(limit)))


def entries(action: str = ""):
    """A SELECT of the entries, optionally only one kind of action, unordered."""
    query = select(AuditEntry)
    return query.where(AuditEntry.action == action) if action else query


def _dump(value: Any) -> str:
    if value is None:
        return ""
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
