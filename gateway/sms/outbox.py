"""Ledger writes and enqueueing: record first (inside the caller's transaction), enqueue after.

The registry calls :func:`record_message` inside its booking transaction and
:func:`enqueue_messages` after the commit. If the enqueue is lost (crash, Redis wiped), the
sweeper finds the row still ``queued`` and enqueues it again. A job carries up to a queue's
``batch_size`` ids (``sms.queues``); a worker sends them concurrently (gateway/sms/dispatch.py).
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import redis
from rq import Queue
from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from gateway.config import SmsSettings
from gateway.sms.budget import Budget
from gateway.sms.budget import apply as apply_budget
from gateway.sms.templates import dlt_fields, gsm7_if_possible
from gateway.storage.database import attach
from gateway.storage.ledger import Message, MessageKind, MessageStatus
from gateway.storage.models import utcnow
from gateway.text.encoding import sms_segments
from gateway.text.phones import E164_FORM

QUEUES = ("otp", "notify", "bulk")  # a worker drains them in this order
QUEUE_FOR_KIND = {MessageKind.OTP: "otp", MessageKind.CONFIRMATION: "notify",
                  MessageKind.NOTICE: "notify", MessageKind.REMINDER: "bulk"}
KINDS_OF_QUEUE = {q: tuple(k.value for k, kq in QUEUE_FOR_KIND.items() if kq == q)
                  for q in QUEUES}
SEND_JOB = "workers.jobs.send_messages"


def record_message(session: Session, *, phone: str, kind: str | MessageKind, body: str,
                   lang: str, dedupe_key: str, budget: Budget | None,
                   expires_at: dt.datetime | None = None, fresh: bool = False) -> Message:
    """Write the ledger row for one outbound SMS (no Redis); return it, flushed, with its id.

    The same ``dedupe_key`` always yields the same row: a second call (a retried request,
    a job run twice) returns the existing message instead of recording a new one.
    ``fresh``: the key names something created in this transaction (a new appointment), so
    no row can have it yet: no lookup and no savepoint.
    A ``body`` from ``templates.render`` brings its template name and DLT template id.
    ``budget``: the phone's SMS budget (gateway/sms/budget.py; ``Budget.of(settings.sms.budget)``);
    past it the row is written as not sent, with the reason. None only where the message is
    capped elsewhere or asked for by a trusted person: OTPs (their own caps), a health
    worker's replies and bookings, an officer's resend.
    """
    if not E164_FORM.match(phone):
        raise ValueError("phone must be E.164, e.g. +919812345678")
    existing = None if fresh else _by_dedupe_key(session, dedupe_key)
    if existing is not None:
        return existing
    registered = dlt_fields(body)
    body = gsm7_if_possible(body)
    encoding, segments = sms_segments(body)
    now = utcnow()
    row = {"phone": phone, "kind": MessageKind(kind).value, "body": body, "lang": lang,
           "dedupe_key": dedupe_key, "encoding": encoding, "segments": segments,
           "status": MessageStatus.QUEUED.value, "expires_at": expires_at,
           "status_reason": "", "resends": 0, "provider": None, "provider_message_id": None,
           "created_at": now, "updated_at": now, "sent_at": None, "delivered_at": None,
           "next_attempt_at": None, "retries": 0,
           **registered}
    if budget is not None:
        row = apply_budget(session, budget, [row], now)[0]
    if fresh:  # a Core insert, no savepoint: a clash here is a bug and fails the transaction
        row["id"] = session.connection().execute(_INSERT_MESSAGE, row).scalar_one()
        return attach(session, Message, row)
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


def enqueue_messages(redis_conn: redis.Redis, message_ids: Iterable[int], *,
                     queue: str = "notify", settings: SmsSettings | None = None) -> list[str]:
    """Enqueue send jobs for ``message_ids`` on ``queue`` (otp, notify or bulk), up to the
    queue's ``batch_size`` ids per job; call after commit. Returns the job ids.

    Enqueueing an id twice is harmless: a message is claimed once (gateway/sms/claims.py).
    Retries are scheduled from SQL by the job itself (gateway/sms/retries.py).
    """
    if queue not in QUEUES:
        raise ValueError(f"queue must be one of {QUEUES}")
    settings = settings or SmsSettings()
    ids = list(message_ids)
    size = settings.queues[queue].batch_size
    options = job_options(settings, queue)
    jobs = [Queue.prepare_data(SEND_JOB, args=(ids[i:i + size], queue),
                               timeout=options["job_timeout"], result_ttl=0,
                               failure_ttl=options["failure_ttl"])
            for i in range(0, len(ids), size)]
    return [job.id for job in Queue(queue, connection=redis_conn).enqueue_many(jobs)] \
        if jobs else []


def job_options(settings: SmsSettings, queue: str) -> dict[str, int]:
    """RQ options of a send job. Its timeout is never reached: a job starts no try that could
    end later than ``stale_after_seconds`` after its claim (gateway/sms/dispatch.py)."""
    config = settings.queues[queue]
    longest = config.connect_timeout_seconds + config.read_timeout_seconds
    return {"job_timeout": int(settings.stale_after_seconds + longest + 30), "result_ttl": 0,
            "failure_ttl": settings.stale_after_seconds}


def queue_for(kind: str | MessageKind) -> str:
    """The queue a message kind goes to: OTPs never wait behind bulk reminders."""
    return QUEUE_FOR_KIND[MessageKind(kind)]


def expires_in(seconds: int) -> dt.datetime:
    """A UTC expiry ``seconds`` from now, for ``record_message(expires_at=...)``."""
    return utcnow() + dt.timedelta(seconds=seconds)
