"""The sweeper: SQL is the record, so whatever Redis forgot is enqueued again from SQL.

Run every ``sms.sweep_interval_seconds`` (RQ cron). In order it: hands back messages whose
worker died mid-send, expires what can no longer be useful, gives up on very old ones,
re-sends through another provider every message reported undelivered and every OTP or
confirmation whose requested delivery report never came, and enqueues every ``queued``
message whose round is due that no RQ job will send (a Redis restart, a lost retry wake-up,
a worker killed mid-send): retries live in SQL (gateway/sms/retries.py), so this rebuilds
them all.
"""
from __future__ import annotations

import datetime as dt

from rq import Queue
from rq.exceptions import NoSuchJobError
from rq.job import Job
from sqlalchemy import and_, exists, or_, select, update

from gateway.sms import failover, metrics, outbox
from gateway.sms.dispatch import SmsContext
from gateway.storage.ledger import Message, MessageKind, MessageStatus, SendAttempt
from gateway.storage.models import utcnow
from gateway.text.times import as_utc

QUEUED_GRACE_S = 5  # between a commit and its enqueue, or a retry's time and its wake-up
BATCH = 2000
# re-sent when the delivery report asked for never came (the others only when undelivered)
RESEND_KINDS = (MessageKind.OTP.value, MessageKind.CONFIRMATION.value)
Q, SENDING, SENT = (MessageStatus.QUEUED.value, MessageStatus.SENDING.value,
                    MessageStatus.SENT.value)
UNDELIVERED = MessageStatus.UNDELIVERED.value


def sweep(ctx: SmsContext, now: dt.datetime | None = None) -> dict[str, int]:
    """One pass; returns how many messages each step touched."""
    now = now or utcnow()
    sms = ctx.settings.sms
    return {
        "unstuck": _bulk_status(ctx, Q, "worker stopped mid-send", Message.status == SENDING,
                                Message.updated_at < now - dt.timedelta(
                                    seconds=sms.stale_after_seconds)),
        "expired": _expire(ctx, now),
        "given_up": _bulk_status(ctx, MessageStatus.FAILED.value, "gave up: never accepted",
                                 Message.status == Q, Message.created_at < now - dt.timedelta(
                                     hours=sms.give_up_after_hours)),
        "resent": _resend_unconfirmed(ctx, now),
        "requeued": _requeue(ctx, now),
    }


def _bulk_status(ctx: SmsContext, status: str, reason: str, *where) -> int:
    with ctx.db.write() as session:
        result = session.execute(update(Message).where(*where).values(
            status=status, status_reason=reason, updated_at=utcnow()))
        return result.rowcount


def _expire(ctx: SmsContext, now: dt.datetime) -> int:
    """Queued messages past their ``expires_at`` are ``expired``; OTPs among them counted."""
    with ctx.db.write() as session:
        kinds = session.scalars(update(Message).where(
            Message.status == Q, Message.expires_at <= now).values(
            status=MessageStatus.EXPIRED.value, status_reason="expired before sending",
            updated_at=utcnow()).returning(Message.kind)).all()
    metrics.OTP_EXPIRED.inc(kinds.count(MessageKind.OTP.value))
    return len(kinds)


def _resend_unconfirmed(ctx: SmsContext, now: dt.datetime) -> int:
    """Undelivered messages, and OTPs/confirmations whose requested report never came, go
    out again through a provider that has not sent them yet (the one that failed last)."""
    cutoff = now - dt.timedelta(seconds=ctx.settings.sms.delivery_report_timeout_seconds)
    awaited = exists().where(SendAttempt.message_id == Message.id,
                             SendAttempt.provider_message_id == Message.provider_message_id,
                             SendAttempt.report_requested.is_(True))
    unreported = and_(Message.kind.in_(RESEND_KINDS), Message.status == SENT,
                      Message.sent_at < cutoff, Message.resends < len(ctx.providers) - 1,
                      awaited)
    with ctx.db.write() as session:
        rows = session.scalars(select(Message).where(
            or_(unreported, Message.status == UNDELIVERED),
            or_(Message.expires_at.is_(None), Message.expires_at > now))
            .order_by(Message.id).limit(BATCH)).all()
        kinds = [(m.id, m.kind) for m in rows if _requeue_elsewhere(ctx, session, m)]
    _enqueue(ctx, kinds)
    return len(kinds)


def _requeue_elsewhere(ctx: SmsContext, session, message: Message) -> bool:
    """Queue ``message`` for a provider that may still send it, the one that failed it last.

    False when none is left; an undelivered message is then ``failed`` for good (its
    reason kept), so the next pass does not select it again."""
    spent = failover.spent_providers(session, message.id)
    undelivered = message.status == UNDELIVERED
    if not ctx.router.order(message.phone, exclude=spent):
        if undelivered:
            message.status, message.updated_at = MessageStatus.FAILED.value, utcnow()
        return False
    why = message.status_reason if undelivered else f"no delivery report from {message.provider}"
    message.status, message.resends = Q, message.resends + 1
    message.try_last, message.status_reason = message.provider, f"{why[:185]}; re-sending"
    message.updated_at, message.next_attempt_at = utcnow(), None  # at once, not on a schedule
    return True


def _requeue(ctx: SmsContext, now: dt.datetime) -> int:
    """Enqueue the ``queued`` messages that are due and that no RQ job waits to send.

    A job is enqueued when its messages fall due (a retry's by RQ's scheduler, at that
    second) and a queue is first in, first out: so a message due more than the grace before
    the oldest job waiting in its queue was enqueued (or before now, when none waits) has
    no job. An extra job is harmless: it finds nothing left to claim."""
    found: list[tuple[int, str]] = []
    for queue in outbox.QUEUES:
        cutoff = _waiting_since(ctx, queue, now) - dt.timedelta(seconds=QUEUED_GRACE_S)
        due = or_(Message.next_attempt_at < cutoff,
                  and_(Message.next_attempt_at.is_(None), Message.updated_at < cutoff))
        with ctx.db.read() as session:
            found += session.execute(select(Message.id, Message.kind).where(
                Message.status == Q, Message.kind.in_(outbox.KINDS_OF_QUEUE[queue]), due)
                .order_by(Message.next_attempt_at, Message.id).limit(BATCH)).all()
    _enqueue(ctx, found)
    return len(found)


def _waiting_since(ctx: SmsContext, queue: str, now: dt.datetime) -> dt.datetime:
    """When the oldest job still waiting in ``queue`` was enqueued; ``now`` if none waits."""
    first = Queue(queue, connection=ctx.queue_redis).get_job_ids(0, 1)
    try:
        job = Job.fetch(first[0], connection=ctx.queue_redis) if first else None
    except NoSuchJobError:
        job = None
    return min(now, as_utc(job.enqueued_at)) if job and job.enqueued_at else now


def _enqueue(ctx: SmsContext, messages: list[tuple[int, str]]) -> None:
    """Enqueue (id, kind) pairs, each on its kind's queue."""
    groups: dict[str, list[int]] = {}
    for message_id, kind in messages:
        groups.setdefault(outbox.queue_for(kind), []).append(message_id)
    for queue, ids in groups.items():
        outbox.enqueue_messages(ctx.queue_redis, ids, queue=queue, settings=ctx.settings.sms)
