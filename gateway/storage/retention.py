"""Retention: personal data kept outside the registry is removed after ``retention.*_days``.

What goes, per kind (``vaxgate retention run [--dry-run]`` prints the counts; the worker's
cron applies it every ``retention.interval_minutes``):

- ``message_bodies``: the text of SMS in the ledger (names, references, dates) is replaced
  by ``[removed]``; phone, kind, status and attempts stay for the "who was reached" reports.
  OTP codes never reach the ledger (masked when recorded, gateway/sms/otp_codes.py).
- ``sandbox_inbox``: the simulator's SMS inbox rows (they hold OTPs in the clear) are deleted.
- ``recordings``: references to IVR recorded names are cleared (staff transcribe before).
- ``audit_entries``: admin and health-worker audit rows are deleted (off by default).
- ``sessions``: USSD/IVR session and resume keys in Redis that would outlive
  ``session_days`` (no expiry, e.g. after a restore) are deleted; sessions expire on their own.

Inbound SMS texts are never stored (only the replies), so they need no rule.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import redis
from sqlalchemy import ColumnElement, delete, func, select, update
from sqlalchemy.orm import Session

from gateway.config import RetentionSettings
from gateway.storage import Beneficiary, Database, Message, SandboxMessage
from gateway.storage.ledger import MessageStatus
from gateway.storage.models import utcnow

REMOVED = "[removed]"
SESSION_PATTERNS = ("vaxgate:*:session:*", "vaxgate:*:resume", "vaxgate:*:owner:*")
IN_FLIGHT = (MessageStatus.QUEUED.value, MessageStatus.SENDING.value)


@dataclass(frozen=True)
class Rule:
    """One kind of data: rows of ``model`` older than ``days_setting`` days (by ``stamp``)
    matching ``only`` get ``values`` written, or are deleted when ``values`` is None."""

    kind: str
    model: Any
    stamp: Callable[[], ColumnElement]
    days_setting: str
    only: Callable[[], ColumnElement]
    values: dict[str, Any] | None = None


RULES: list[Rule] = [
    Rule("message_bodies", Message, lambda: Message.created_at, "message_body_days",
         lambda: (Message.body != REMOVED) & Message.status.not_in(IN_FLIGHT),
         {"body": REMOVED}),
    Rule("sandbox_inbox", SandboxMessage, lambda: SandboxMessage.at, "message_body_days",
         lambda: SandboxMessage.id.is_not(None)),
    Rule("recordings", Beneficiary, lambda: Beneficiary.created_at, "recording_days",
         lambda: Beneficiary.name_recording_url.is_not(None), {"name_recording_url": None}),
]


def register_rule(rule: Rule) -> None:
    """Add a feature's kind of personal data (its audit rows...); once per kind."""
    if all(existing.kind != rule.kind for existing in RULES):
        RULES.append(rule)


def apply_retention(db: Database, conn: redis.Redis | None, settings: RetentionSettings, *,
                    now: dt.datetime | None = None, dry_run: bool = False) -> dict[str, int]:
    """Remove what is past its retention; ``{kind: rows or keys}`` (counted only, dry run).
    Without a Redis connection ``sessions`` is left out."""
    now = now or utcnow()
    counts: dict[str, int] = {}
    with (db.read() if dry_run else db.write()) as session:
        for rule in RULES:
            days = getattr(settings, rule.days_setting)
            counts[rule.kind] = _apply(session, rule, now - dt.timedelta(days=days), dry_run) \
                if days else 0
    if conn is not None:
        counts["sessions"] = _sessions(conn, settings.session_days, dry_run)
    return counts


def _apply(session: Session, rule: Rule, cutoff: dt.datetime, dry_run: bool) -> int:
    where = (rule.stamp() < cutoff) & rule.only()
    if dry_run:
        return session.scalar(select(func.count()).select_from(rule.model).where(where)) or 0
    if rule.values is None:
        statement = delete(rule.model).where(where)
    else:
        statement = update(rule.model).where(where).values(**rule.values)
    return session.execute(statement.execution_options(synchronize_session=False)).rowcount


def _sessions(conn: redis.Redis, days: int, dry_run: bool) -> int:
    """Session keys without expiry, or expiring later than ``days`` from now."""
    if not days:
        return 0
    limit = days * 86400
    stale = [key for pattern in SESSION_PATTERNS
             for key in conn.scan_iter(match=pattern, count=1000)
             if conn.ttl(key) == -1 or conn.ttl(key) > limit]
    if stale and not dry_run:
        conn.delete(*stale)
    return len(stale)
