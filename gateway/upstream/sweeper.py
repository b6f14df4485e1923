"""Enqueue upstream deliveries from SQL when they are due, and report the backlog.

The rows are the schedule: a failed delivery sets its event's ``next_attempt_at`` and ends,
and every ``upstream.sweep_interval_seconds`` the sweeper enqueues a delivery job for each
person whose line is due and who has no job waiting or running. So a retry comes at most
one sweep interval after it is due, a Redis restart or wipe loses nothing, and an outage of
days ends with every event sent. While the registry's circuit is open nobody is enqueued;
when it is half-open, one person (the probe). With no upstream configured, pending events
are kept and marked ``not_required``.
"""
from __future__ import annotations

import datetime as dt
import logging
from typing import Any

import redis
from rq import Queue
from sqlalchemy import func, select, update

from gateway.config import Settings
from gateway.storage import Beneficiary, Center
from gateway.storage.models import utcnow
from gateway.storage.outbox import EventStatus, UpstreamEvent
from gateway.text.times import as_utc
from gateway.upstream.breaker import CLOSED, HALF_OPEN, Breaker
from gateway.upstream.delivery import PARKED, PENDING

log = logging.getLogger(__name__)
BATCH = 2000
DELIVER_JOB = "gateway.upstream.jobs.deliver"
LIVE_JOB_STATES = {b"queued", b"started"}
ROOM = {CLOSED: BATCH, HALF_OPEN: 1}  # people one pass may enqueue, by circuit state


def job_id(beneficiary_id: int) -> str:
    """One delivery job per person: enqueueing twice is harmless."""
    return f"upstream-{beneficiary_id}"


def enqueue(redis_conn: redis.Redis, settings: Settings, beneficiary_ids) -> int:
    """Enqueue a delivery job per person (no RQ ``Retry``: the rows say when to retry)."""
    config = settings.upstream
    ids = sorted(set(beneficiary_ids))
    if not config.url or not ids:
        return 0
    jobs = [Queue.prepare_data(DELIVER_JOB, args=(bid,), job_id=job_id(bid),
                               result_ttl=0, failure_ttl=7 * 86400,
                               timeout=int(config.timeout_seconds * 20 + 60)) for bid in ids]
    Queue(config.queue, connection=redis_conn).enqueue_many(jobs)
    return len(jobs)


def enqueue_after_commit(redis_conn: redis.Redis, settings: Settings, beneficiary_ids) -> None:
    """Enqueue now if Redis answers; otherwise the sweeper will."""
    try:
        enqueue(redis_conn, settings, beneficiary_ids)
    except redis.RedisError as exc:
        log.warning("upstream: could not enqueue now (%s); the sweeper will", exc)


def sweep(ctx: Any, now: dt.datetime | None = None) -> dict[str, int]:
    """One pass: mark events not required (no upstream), or enqueue the due people the
    registry's circuit lets through."""
    now = now or utcnow()
    if not ctx.settings.upstream.url:
        return {"not_required": _mark_not_required(ctx.db), "enqueued": 0}
    room = ROOM.get(Breaker(ctx.redis, ctx.settings.upstream).state(), 0)
    due = _due_beneficiaries(ctx.db, now, room) if room else []
    pipe = ctx.queue_redis.pipeline()
    for bid in due:
        pipe.hget(f"rq:job:{job_id(bid)}", "status")
    idle = [bid for bid, state in zip(due, pipe.execute(), strict=True)
            if state not in LIVE_JOB_STATES]
    return {"not_required": 0, "enqueued": enqueue(ctx.queue_redis, ctx.settings, idle)}


def _mark_not_required(db) -> int:
    with db.write() as session:
        return session.execute(update(UpstreamEvent).where(UpstreamEvent.status == PENDING)
                               .values(status=EventStatus.NOT_REQUIRED.value,
                                       updated_at=utcnow())).rowcount


def _due_beneficiaries(db, now: dt.datetime, limit: int = BATCH) -> list[int]:
    """People whose line of pending events is due now, with no parked event blocking it.

    Only the first pending event of a person is ever tried (order); those behind it keep
    their creation time. The latest ``next_attempt_at`` of the line is therefore the first
    event's backoff: a person in backoff is not due just because they booked since."""
    parked = select(UpstreamEvent.beneficiary_id).where(UpstreamEvent.status == PARKED)
    with db.read() as session:
        return list(session.scalars(
            select(UpstreamEvent.beneficiary_id).where(
                UpstreamEvent.status == PENDING, UpstreamEvent.beneficiary_id.not_in(parked))
            .group_by(UpstreamEvent.beneficiary_id)
            .having(func.max(UpstreamEvent.next_attempt_at) <= now)
            .order_by(func.min(UpstreamEvent.id)).limit(limit)))


def in_district(query, district: str | None, state: str | None = None):
    """``query`` over upstream events narrowed to people of ``district`` (None: everyone),
    of ``state`` when given: those registered with a pincode of one of its centers."""
    if not district:
        return query
    pincodes = select(Center.pincode).where(Center.district == district)
    if state:
        pincodes = pincodes.where(Center.state == state)
    people = select(Beneficiary.id).where(Beneficiary.pincode.in_(pincodes))
    return query.where(UpstreamEvent.beneficiary_id.in_(people))


def status_counts(session, district: str | None = None,
                  state: str | None = None) -> dict[str, int]:
    """Upstream events by status (pending = not yet accepted upstream)."""
    query = select(UpstreamEvent.status, func.count()).group_by(UpstreamEvent.status)
    return dict(session.execute(in_district(query, district, state)).all())


def backlog(db, now: dt.datetime | None = None, district: str | None = None,
            state: str | None = None) -> dict[str, Any]:
    """Pending count, oldest pending age (s), parked count, and the latest error; with
    ``district`` (of ``state``), of that district's people only."""
    now = now or utcnow()
    with db.read() as session:
        counts = status_counts(session, district, state)
        oldest = session.scalar(in_district(select(func.min(UpstreamEvent.created_at))
                                            .where(UpstreamEvent.status == PENDING),
                                            district, state))
        last = session.execute(in_district(
            select(UpstreamEvent.id, UpstreamEvent.last_error)
            .where(UpstreamEvent.last_error != "", UpstreamEvent.status.in_((PENDING, PARKED)))
            .order_by(UpstreamEvent.updated_at.desc()).limit(1), district, state)).first()
    return {"pending": counts.get(PENDING, 0), "parked": counts.get(PARKED, 0),
            "sent": counts.get(EventStatus.SENT.value, 0),
            "not_required": counts.get(EventStatus.NOT_REQUIRED.value, 0),
            "oldest_pending_age_seconds": _age(oldest, now),
            "last_error": {"event_id": last[0], "error": last[1]} if last else None}


def _age(created: dt.datetime | None, now: dt.datetime) -> int | None:
    if created is None:
        return None
    return max(int((now - as_utc(created)).total_seconds()), 0)
