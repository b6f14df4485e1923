"""Post a beneficiary's pending events to the upstream webhook, oldest first.

One beneficiary at a time (a Redis lock), stopping at the first event that is not accepted,
so the upstream always sees a person's events in order:

- 2xx: the event is ``sent``;
- 4xx other than 429: the event is ``parked`` with its reason; later events of the same
  person wait behind it until a person re-sends (``resend``) it;
- 429, 5xx, timeouts, refused connections: the attempt is counted and the next one is due
  after a capped exponential backoff with jitter (``retry_delay``), stored in the row's
  ``next_attempt_at``. Nothing is raised: the row is the one schedule, and the sweeper
  enqueues the person again once it is due. An event is never tried before that time.

Each POST holds one of ``upstream.max_in_flight`` slots (slots.py) and passes the registry's
circuit breaker (breaker.py); with no slot free or the circuit open the job leaves the row
as it is and ends.

The request carries a JSON body, ``Idempotency-Key`` (fixed per event, so a re-send after a
crash is recognised upstream) and ``X-Vaxgate-Signature: sha256=HMAC(secret, ts + "." +
body)`` with ``X-Vaxgate-Timestamp: ts``.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import requests
from redis.exceptions import LockError
from sqlalchemy import select, update

from gateway.config import Settings, UpstreamSettings
from gateway.sms.secrets import read_secret
from gateway.storage.models import utcnow
from gateway.storage.outbox import EventStatus, UpstreamEvent
from gateway.text.times import as_utc
from gateway.upstream.breaker import OPEN, Breaker
from gateway.upstream.slots import Slots

log = logging.getLogger(__name__)
PENDING, SENT, PARKED = (EventStatus.PENDING.value, EventStatus.SENT.value,
                         EventStatus.PARKED.value)
LOCK_PREFIX = "vaxgate:upstream:lock"


@dataclass(frozen=True)
class Answer:
    """How one POST went: ``kind`` is "ok", "permanent" or "retry"."""

    kind: str
    reason: str = ""


def backoff_seconds(config: UpstreamSettings, attempts: int) -> int:
    """Seconds before attempt ``attempts + 1``: base, 2 x base, 4 x base ... capped."""
    exponent = min(max(attempts - 1, 0), 30)
    return min(config.backoff_base_seconds * 2 ** exponent, config.backoff_cap_seconds)


def retry_delay(config: UpstreamSettings, attempts: int,
                draw: Callable[[], float] = random.random) -> float:
    """Seconds to wait after failed attempt ``attempts``: between half and all of its step.

    Equal jitter: full jitter could come back at once and decorrelated jitter wanders off
    the doubling, while this keeps every wait within [step/2, step], so no retry is sooner
    than half its step nor later than the cap, and a herd that failed together spreads."""
    step = backoff_seconds(config, attempts)
    return step / 2 + draw() * step / 2


def deliver(ctx: Any, beneficiary_id: int) -> int:
    """Send the person's due events in order; return how many were accepted.

    ``ctx`` has ``settings``, ``db``, ``redis`` (breaker, slots) and ``queue_redis`` (the
    per-person lock). Never raises for the upstream's trouble: the row records when to retry.
    """
    config = ctx.settings.upstream
    if not config.url:
        return 0
    lock = ctx.queue_redis.lock(f"{LOCK_PREFIX}:{beneficiary_id}",
                          timeout=int(config.timeout_seconds * 2 + 30))
    if not lock.acquire(blocking=False):
        return 0  # another worker is on it; the sweeper catches anything left behind
    try:
        return _deliver_locked(ctx, beneficiary_id, lock)
    finally:
        try:
            lock.release()
        except LockError:
            pass


def _deliver_locked(ctx: Any, beneficiary_id: int, lock) -> int:
    config = ctx.settings.upstream
    breaker, slots = Breaker(ctx.redis, config), Slots(ctx.redis, config)
    sent = 0
    while (event := _due_head(ctx.db, beneficiary_id)) is not None:
        answer = _attempt(ctx.settings, breaker, slots, event)
        if answer is None:
            return sent  # held back (circuit open, no slot): the row is unchanged
        _record(config, ctx.db, event.id, answer)
        if answer.kind != "ok":
            log.warning("upstream %s event %s (%s)", "refused" if answer.kind == "permanent"
                        else "did not take", event.id, answer.reason)
            return sent
        sent += 1
        lock.reacquire()
    return sent


def _attempt(settings: Settings, breaker: Breaker, slots: Slots,
             event: UpstreamEvent) -> Answer | None:
    """POST ``event`` within a slot when the circuit lets it; None when held back."""
    with slots.held() as got:
        if not got or breaker.admit() == OPEN:
            return None
        answer = post_event(settings, event)
        breaker.record(healthy=answer.kind != "retry")
        return answer


def _due_head(db, beneficiary_id: int) -> UpstreamEvent | None:
    """The person's oldest event not yet sent, if it is due and no parked one blocks it."""
    with db.read() as session:
        event = session.scalar(select(UpstreamEvent).where(
            UpstreamEvent.beneficiary_id == beneficiary_id,
            UpstreamEvent.status.in_((PENDING, PARKED))).order_by(UpstreamEvent.id).limit(1))
    if event is None or event.status != PENDING or as_utc(event.next_attempt_at) > utcnow():
        return None
    return event


def post_event(settings: Settings, event: UpstreamEvent) -> Answer:
    """POST one event; classify the answer (never raises for network trouble)."""
    config = settings.upstream
    body = event.payload.encode("utf-8")
    try:
        response = requests.post(config.url, data=body, headers=signed_headers(
            read_secret(config.secret_env), body, event), timeout=config.timeout_seconds)
    except requests.RequestException as exc:
        return Answer("retry", f"{type(exc).__name__}")
    return classify(response.status_code, response.text)


def signed_headers(secret: str, body: bytes, event: UpstreamEvent) -> dict[str, str]:
    """Content type, idempotency key, event kind, timestamp and HMAC-SHA256 signature."""
    timestamp = str(int(time.time()))
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return {"Content-Type": "application/json; charset=utf-8",
            "Idempotency-Key": event.idempotency_key, "X-Vaxgate-Event": event.kind,
            "X-Vaxgate-Timestamp": timestamp, "X-Vaxgate-Signature": "sha256=" + mac.hexdigest()}


def classify(status: int, text: str) -> Answer:
    """2xx ok; 429 and 5xx (and anything odd) retry; other 4xx permanent, with the reason."""
    if 200 <= status < 300:
        return Answer("ok")
    reason = f"HTTP {status}: {' '.join(text.split())[:200]}".rstrip(": ")
    if 400 <= status < 500 and status != 429:
        return Answer("permanent", reason)
    return Answer("retry", reason)


def _record(config: UpstreamSettings, db, event_id: int, answer: Answer) -> None:
    now = utcnow()
    with db.write() as session:
        event = session.get(UpstreamEvent, event_id)
        event.attempts += 1
        event.updated_at = now
        if answer.kind == "ok":
            event.status, event.sent_at, event.last_error = SENT, now, ""
        elif answer.kind == "permanent":
            event.status, event.last_error = PARKED, answer.reason
        else:
            event.last_error = answer.reason
            event.next_attempt_at = now + dt.timedelta(
                seconds=retry_delay(config, event.attempts))


def resend(db, event_id: int) -> bool:
    """Put a parked event back in line (after a person fixed the cause); False if not parked."""
    with db.write() as session:
        result = session.execute(update(UpstreamEvent).where(
            UpstreamEvent.id == event_id, UpstreamEvent.status == PARKED).values(
            status=PENDING, next_attempt_at=utcnow(), updated_at=utcnow()))
        return result.rowcount == 1
