"""The sweeper: SQL is the record, so whatever Redis forgot is enqueued again from SQL.

Run every ``sms.sweep_interval_seconds`` (RQ cron). In order it: hands back messages whose
worker died mid-send, expires what can no longer be useful, gives up on very old ones,
re-sends OTPs and confirmations that got no delivery report through the next provider,
and enqueues every ``queued`` message that has no RQ job (e.g. after a Redis restart).
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy import and_, or_, select, update

from gateway.sms import outbox
from gateway.sms.dispatch import SmsContext
from gateway.storage.ledger import AttemptOutcome, Message, MessageKind, MessageStatus, SendAttempt
from gateway.storage.models import utcnow

QUEUED_GRACE_S = 5  # between a commit and its enqueue
# RQ job states that will still run the send. Not "started": a worker killed mid-send leaves
# its job "started" until RQ's maintenance (minutes later); the claim makes a second run safe.
WAITING_JOB_STATES = {b"queued", b"scheduled", b"deferred"}
BATCH = 2000
RESEND_KINDS = (MessageKind.OTP.value, MessageKind.CONFIRMATION.value)
Q, SENDING, SENT = (MessageStatus.QUEUED.value, MessageStatus.SENDING.value,
                    MessageStatus.SENT.value)


def sweep(ctx: SmsContext, now: dt.datetime | None = None) -> dict[str, int]:
    """One pass; returns how many messages each step touched."""
    now = now or utcnow()
    sms = ctx.settings.sms
    return {
        "unstuck": _bulk_status(ctx, Q, "worker stopped mid-send", Message.status == SENDING,
                                Message.updated_at < now - dt.timedelta(
                                    seconds=sms.stale_after_seconds)),
        "expired": _bulk_status(ctx, MessageStatus.EXPIRED.value, "expired before sending",
                                Message.status == Q, Message.expires_at <= now),
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


def _resend_unconfirmed(ctx: SmsContext, now: dt.datetime) -> int:
    """OTPs/confirmations with no delivery report in time go out again via the next provider."""
    cutoff = now - dt.timedelta(seconds=ctx.settings.sms.delivery_report_timeout_seconds)
    unconfirmed = or_(and_(Message.status == SENT, Message.sent_at < cutoff),
                      Message.status == MessageStatus.UNDELIVERED.value)
    with ctx.db.write() as session:
        rows = session.scalars(select(Message).where(
            Message.kind.in_(RESEND_KINDS), unconfirmed,
            or_(Message.expires_at.is_(None), Message.expires_at > now)).limit(BATCH)).all()
        again = [m for m in rows if ctx.router.order(m.phone, exclude=_accepted_by(session, m))]
        for message in again:
            message.status, message.resends = Q, message.resends + 1
            message.status_reason = f"no delivery report from {message.provider}; re-sending"
            message.updated_at = utcnow()
        kinds = [(m.id, m.kind) for m in again]
    _enqueue(ctx, kinds)
    return len(kinds)


def _accepted_by(session, message: Message) -> set[str]:
    return set(session.scalars(select(SendAttempt.provider).where(
        SendAttempt.message_id == message.id,
        SendAttempt.outcome == AttemptOutcome.ACCEPTED.value)))


def _requeue(ctx: SmsContext, now: dt.datetime) -> int:
    """Enqueue ``queued`` messages with no RQ job waiting to send them (Redis restarted, an
    enqueue lost, a worker killed mid-send, retries used up)."""
    with ctx.db.read() as session:
        rows = session.execute(select(Message.id, Message.kind).where(
            Message.status == Q, Message.updated_at < now - dt.timedelta(seconds=QUEUED_GRACE_S))
            .order_by(Message.id).limit(BATCH)).all()
    if not rows:
        return 0
    pipe = ctx.queue_redis.pipeline()
    for message_id, _ in rows:
        pipe.hget(f"rq:job:{outbox.job_id(message_id)}", "status")
    missing = [(mid, kind) for (mid, kind), state in zip(rows, pipe.execute(), strict=True)
               if state not in WAITING_JOB_STATES]
    _enqueue(ctx, missing)
    return len(missing)


def _enqueue(ctx: SmsContext, messages: list[tuple[int, str]]) -> None:
    """Enqueue (id, kind) pairs, each on its kind's queue."""
    groups: dict[str, list[int]] = {}
    for message_id, kind in messages:
        groups.setdefault(outbox.queue_for(kind), []).append(message_id)
    for queue, ids in groups.items():
        outbox.enqueue_messages(ctx.queue_redis, ids, queue=queue, settings=ctx.settings.sms)
