"""A worker's claims on ledger messages: many claimed in one statement, settled in one
transaction.

A claim is the conditional ``UPDATE ... SET status='sending' WHERE status='queued'``, so a
job run twice (or a sweeper re-enqueue racing the first run) finds nothing to claim and a
message is never handed to a provider twice. A job claims its own ids that are due, then
tops up to its batch size with the oldest due messages of its queue's kinds (an OTP job
takes the other OTPs waiting: their own jobs then find nothing). Outcomes are written as
they come back, several per transaction: attempt rows, then each message's new status.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from sqlalchemy import bindparam, insert, or_, select, update
from sqlalchemy.orm import Session

from gateway.sms import failover
from gateway.storage import Database
from gateway.storage.ledger import Message, MessageStatus, SendAttempt
from gateway.storage.models import utcnow

T = Message.__table__
QUEUED, SENDING = MessageStatus.QUEUED.value, MessageStatus.SENDING.value
_COLUMNS = (T.c.id, T.c.phone, T.c.kind, T.c.body, T.c.expires_at, T.c.lang, T.c.template,
            T.c.dlt_template_id, T.c.try_last, T.c.provider, T.c.retries)


@dataclass(frozen=True)
class Claimed:
    """A snapshot of a message this worker now owns (status ``sending``)."""

    id: int
    phone: str
    kind: str
    body: str
    expires_at: dt.datetime | None
    tried: frozenset[str]  # providers that may not send it again (gateway/sms/failover.py)
    last: tuple[str, ...] = ()  # providers to try last: they failed it just before
    lang: str = ""
    template: str | None = None  # for India's DLT rules (gateway/sms/dlt.py)
    dlt_template_id: str | None = None
    retries: int = 0  # rounds in which every provider failed, so far


@dataclass
class Settled:
    """What became of one claimed message: its attempt rows and its new status."""

    message: Claimed
    status: MessageStatus
    reason: str = ""
    attempts: list[dict] = field(default_factory=list)  # sms_send_attempts rows
    provider: str | None = None  # accepted by
    provider_message_id: str | None = None
    next_attempt_at: dt.datetime | None = None  # queued again: not before this
    retries: int = 0


def claim(db: Database, ids: Sequence[int], *, kinds: Iterable[str] = (),
          limit: int = 0) -> list[Claimed]:
    """Claim the due ``queued`` messages among ``ids``, then up to ``limit`` in all with the
    oldest due messages of ``kinds``; one statement each."""
    now = utcnow()
    with db.write() as session:
        rows = _claim(session, T.c.id.in_(list(ids)), now) if ids else []
        room = limit - len(rows)
        kinds = list(kinds)
        if room > 0 and kinds:
            rows += _claim(session, T.c.id.in_(_oldest_due(kinds, now, room)), now)
        return [_snapshot(session, row) for row in rows]


def _due(now: dt.datetime):
    return or_(T.c.next_attempt_at.is_(None), T.c.next_attempt_at <= now)


def _claim(session: Session, which, now: dt.datetime) -> list:
    return session.execute(update(T).where(which, T.c.status == QUEUED, _due(now))
                           .values(status=SENDING, updated_at=now).returning(*_COLUMNS)).all()


def _oldest_due(kinds: list[str], now: dt.datetime, limit: int):
    """The ids a top-up claims (PostgreSQL: rows another worker is claiming are skipped)."""
    return (select(T.c.id).where(T.c.status == QUEUED, T.c.kind.in_(kinds), _due(now))
            .order_by(T.c.next_attempt_at, T.c.id).limit(limit)
            .with_for_update(skip_locked=True))


def _snapshot(session: Session, row) -> Claimed:
    # only a message some provider accepted before can have spent providers
    tried = failover.spent_providers(session, row.id) if row.provider else frozenset()
    return Claimed(row.id, row.phone, row.kind, row.body, row.expires_at, tried,
                   (row.try_last,) if row.try_last else (), row.lang, row.template,
                   row.dlt_template_id, row.retries)


_SENT = (update(T).where(T.c.id == bindparam("b_id"), T.c.status == SENDING)
         .values(status=MessageStatus.SENT.value, status_reason="",
                 provider=bindparam("b_provider"), provider_message_id=bindparam("b_pid"),
                 sent_at=bindparam("b_at"), updated_at=bindparam("b_at")))
_OTHER = (update(T).where(T.c.id == bindparam("b_id"), T.c.status == SENDING)
          .values(status=bindparam("b_status"), status_reason=bindparam("b_reason"),
                  next_attempt_at=bindparam("b_next"), retries=bindparam("b_retries"),
                  updated_at=bindparam("b_at")))


def settle(db: Database, results: Sequence[Settled]) -> None:
    """Write the attempts and new statuses of ``results`` in one transaction.

    Only messages still ``sending`` change: one the sweeper handed back meanwhile keeps its
    new state (its attempts are still recorded)."""
    if not results:
        return
    now = utcnow()
    sent = [r for r in results if r.status is MessageStatus.SENT]
    other = [r for r in results if r.status is not MessageStatus.SENT]
    with db.write() as session:
        attempts = [a for r in results for a in r.attempts]
        if attempts:
            session.execute(insert(SendAttempt.__table__), attempts)
        if sent:
            session.execute(_SENT, [{"b_id": r.message.id, "b_provider": r.provider,
                                     "b_pid": r.provider_message_id, "b_at": now}
                                    for r in sent])
        if other:
            session.execute(_OTHER, [{"b_id": r.message.id, "b_status": r.status.value,
                                      "b_reason": r.reason[:200], "b_next": r.next_attempt_at,
                                      "b_retries": r.retries, "b_at": now} for r in other])


def attempt_row(message_id: int, provider: str, outcome: str, *, error_code: str = "",
                error: str = "", latency_ms: int = 0, provider_message_id: str | None = None,
                report_requested: bool = False) -> dict:
    """One ``sms_send_attempts`` row, stamped now."""
    return {"message_id": message_id, "provider": provider, "outcome": outcome,
            "error_code": error_code[:40], "error": error[:200], "latency_ms": latency_ms,
            "provider_message_id": provider_message_id, "report_requested": report_requested,
            "report_verdict": None, "at": utcnow()}
