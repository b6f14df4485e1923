"""Ledger writes and enqueueing: record first (inside the caller's transaction), enqueue after.

The registry calls :func:`record_message` inside its booking transaction and
:func:`enqueue_messages` after the commit. If the enqueue is lost (crash, Redis wiped), the
sweeper finds the row still ``queued`` and enqueues it again.
"""
from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable

import redis
from rq import Queue, Retry
from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from gateway.config import SmsSettings
from gateway.sms.templates import gsm7_if_possible
from gateway.storage.database import attach
from gateway.storage.ledger import Message, MessageKind, MessageStatus
from gateway.storage.models import utcnow
from gateway.text.encoding import sms_segments

QUEUES = ("otp", "notify", "bulk")  # a worker drains them in this order
QUEUE_FOR_KIND = {MessageKind.OTP: "otp", MessageKind.CONFIRMATION: "notify",
                  MessageKind.NOTICE: "notify", MessageKind.REMINDER: "bulk"}
SEND_JOB = "workers.jobs.send_message"
E164 = re.compile(r"^\+[1-9]\d{6,14}$")


def record_message(session: Session, *, phone: str, kind: str | MessageKind, body: str,
                   lang: str, dedupe_key: str,
                   expires_at: dt.datetime | None = None, fresh: bool = False) -> Message:
    """Write the ledger row for one outbound SMS (no Redis); return it, flushed, with its id.

    The same ``dedupe_key`` always yields the same row: a second call (a retried request,
    a job run twice) returns the existing message instead of recording a new one.
    ``fresh``: the key names something created in this transaction (a new appointment), so
    no row can have it yet: no lookup and no savepoint.
    """
    if not E164.match(phone):
        raise ValueError("phone must be E.164, e.g. +919812345678")
    existing = None if fresh else _by_dedupe_key(session, dedupe_key)
    if existing is not None:
        return existing
    body = gsm7_if_possible(body)
    encoding, segments = sms_segments(body)
    now = utcnow()
    row = {"phone": phone, "kind": MessageKind(kind).value, "body": body, "lang": lang,
           "dedupe_key": dedupe_key, "encoding": encoding, "segments": segments,
           "status": MessageStatus.QUEUED.value, "expires_at": expires_at,
           "status_reason": "", "resends": 0, "provider": None, "provider_message_id": None,
           "created_at": now, "updated_at": now, "sent_at": None, "delivered_at": None}
    if fresh:  # a Core insert, no savepoint: a clash here is a bug and fails the transaction
        row["id"] = session.connection().execute(_INSERT_MESSAGE, row).scalar_one()
        return attach(session, Message(**row))
    message = Message(**row)
    try:
        with session.begin_nested():
            session.add(message)
    except IntegrityError:  # a concurrent transaction recorded the same key first
        return _by_dedupe_key(session, dedupe_key)  # type: ignore[return-value]
    return message


_INSERT_MESSAGE = insert(Message.__table__).returning(Message.__table__.c.id)


def _by_dedupe_key(session: Session, key: str) -> Message | None:
    return session.scalar(select(Message).where(Message.dedupe_key == key))


def job_id(message_id: int) -> str:
    """The RQ job id of a message: one job per message, so enqueueing twice is harmless."""
    return f"sms-{message_id}"


def enqueue_messages(redis_conn: redis.Redis, message_ids: Iterable[int], *,
                     queue: str = "notify", settings: SmsSettings | None = None) -> list[str]:
    """Enqueue a send job per message id on ``queue`` (otp, notify or bulk); call after commit.

    Returns the job ids. Jobs retry with RQ's ``Retry`` after every provider failed.
    """
    if queue not in QUEUES:
        raise ValueError(f"queue must be one of {QUEUES}")
    settings = settings or SmsSettings()
    q = Queue(queue, connection=redis_conn)
    retry = Retry(max=len(settings.retry_intervals_seconds),
                  interval=settings.retry_intervals_seconds)
    jobs = [Queue.prepare_data(SEND_JOB, args=(mid,), job_id=job_id(mid), retry=retry,
                               result_ttl=0, failure_ttl=settings.stale_after_seconds,
                               timeout=job_timeout(settings))
            for mid in message_ids]
    return [job.id for job in q.enqueue_many(jobs)] if jobs else []


def job_timeout(settings: SmsSettings) -> int:
    """Long enough for one timeout per provider plus rate-limit waits."""
    return int(sum(p.timeout_seconds for p in settings.providers) + 30)


def queue_for(kind: str | MessageKind) -> str:
    """The queue a message kind goes to: OTPs never wait behind bulk reminders."""
    return QUEUE_FOR_KIND[MessageKind(kind)]


def expires_in(seconds: int) -> dt.datetime:
    """A UTC expiry ``seconds`` from now, for ``record_message(expires_at=...)``."""
    return utcnow() + dt.timedelta(seconds=seconds)
