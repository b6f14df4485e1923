"""Send one ledger message: claim it, try providers in failover order, record every attempt.

The claim is a conditional ``UPDATE ... SET status='sending' WHERE status='queued'``: a job
that runs twice (or a sweeper re-enqueue racing the first run) finds nothing to claim, so a
message is never handed to a provider twice. A retryable error or a timeout moves on to the
next provider at once; when every provider failed, the message goes back to ``queued`` and
:class:`AllProvidersFailed` lets RQ's ``Retry`` try again later.
"""
from __future__ import annotations

import datetime as dt
import logging
import time
from dataclasses import dataclass, field

import pybreaker
import redis
from sqlalchemy import select, update

from gateway.config import Settings
from gateway.sms import otp_codes
from gateway.sms.breaker import build_breaker
from gateway.sms.errors import AllProvidersFailed, TransportError
from gateway.sms.providers import Provider, build_providers
from gateway.sms.ratelimit import RateLimiter
from gateway.sms.router import Router
from gateway.sms.secrets import mask_phone
from gateway.storage import Database
from gateway.storage.ledger import (
    AttemptOutcome,
    Message,
    MessageKind,
    MessageStatus,
    SendAttempt,
)
from gateway.storage.models import utcnow
from gateway.text.times import as_utc

log = logging.getLogger("vaxgate.sms")


@dataclass
class SmsContext:
    """What a worker needs to send: settings, storage, providers and their guards."""

    settings: Settings
    db: Database
    redis: redis.Redis
    providers: dict[str, Provider]
    router: Router
    breakers: dict[str, pybreaker.CircuitBreaker] = field(default_factory=dict)
    limiter: RateLimiter | None = None
    queue_redis: redis.Redis | None = None  # RQ queues and locks; None: ``redis``

    def __post_init__(self) -> None:
        if self.queue_redis is None:
            self.queue_redis = self.redis

    @classmethod
    def build(cls, settings: Settings, db: Database, redis_conn: redis.Redis,
              queue_conn: redis.Redis | None = None) -> SmsContext:
        """Providers from settings, with a Redis-shared breaker and rate limit for each.

        ``redis_conn`` holds what may expire (OTP codes, breakers, rate limits);
        ``queue_conn`` the RQ queues the jobs go to (default: the same Redis)."""
        providers = build_providers(settings, db=db)
        return cls(settings=settings, db=db, redis=redis_conn, providers=providers,
                   router=Router(list(providers), settings.sms.routes),
                   breakers={n: build_breaker(n, redis_conn, settings.sms) for n in providers},
                   limiter=RateLimiter(redis_conn), queue_redis=queue_conn)


@dataclass(frozen=True)
class Claimed:
    """A snapshot of a message this worker now owns (status ``sending``)."""

    id: int
    phone: str
    kind: str
    body: str
    expires_at: dt.datetime | None
    tried: frozenset[str]


def is_expired(expires_at: dt.datetime | None, now: dt.datetime | None = None) -> bool:
    return expires_at is not None and as_utc(expires_at) <= (now or utcnow())


def send_message(ctx: SmsContext, message_id: int) -> str:
    """Deliver message ``message_id`` to one provider; return what happened (for job results)."""
    message = claim(ctx.db, message_id)
    if message is None:
        return "skipped: not queued"
    body = _body(ctx, message)
    if body is None:
        finish(ctx.db, message.id, MessageStatus.FAILED, "OTP code no longer available")
        return MessageStatus.FAILED.value
    order = ctx.router.order(message.phone, exclude=message.tried)
    if not order:
        finish(ctx.db, message.id, MessageStatus.FAILED, "every provider was already tried")
        return MessageStatus.FAILED.value
    for name in order:
        if is_expired(message.expires_at):
            finish(ctx.db, message.id, MessageStatus.EXPIRED, "expired before it could be sent")
            return MessageStatus.EXPIRED.value
        outcome = _attempt(ctx, message, name, body)
        if outcome is AttemptOutcome.ACCEPTED:
            return MessageStatus.SENT.value
        if outcome is AttemptOutcome.PERMANENT:
            return MessageStatus.FAILED.value
    release(ctx.db, message.id, f"every provider failed: {', '.join(order)}")
    raise AllProvidersFailed(f"message {message.id}: every provider failed ({', '.join(order)})")


def _body(ctx: SmsContext, message: Claimed) -> str | None:
    """The text to send: OTP bodies get their code back from the sealed copy in Redis."""
    if message.kind != MessageKind.OTP.value:
        return message.body
    code = otp_codes.unseal(ctx.redis, ctx.settings.secret_key, message.id)
    return None if code is None else message.body.replace(otp_codes.CODE_MASK, code, 1)


def _attempt(ctx: SmsContext, message: Claimed, name: str, body: str) -> AttemptOutcome | None:
    """One provider try. Returns its outcome, or None when the provider was skipped."""
    provider = ctx.providers[name]
    if ctx.limiter and not ctx.limiter.acquire(name, provider.config.rate_per_second):
        log.info("sms %s: %s rate-limited, trying the next provider", message.id, name)
        return None
    started = time.monotonic()
    try:
        provider_id = ctx.breakers[name].call(provider.send, message.phone, body)
    except pybreaker.CircuitBreakerError:
        log.info("sms %s: circuit open for %s, trying the next provider", message.id, name)
        return None
    except TransportError as exc:
        return _failed(ctx, message, name, exc, started)
    except Exception as exc:  # a provider bug must not strand the message in 'sending'
        log.exception("sms %s: %s raised unexpectedly", message.id, name)
        return _failed(ctx, message, name, TransportError(
            type(exc).__name__, code="internal", retryable=True), started)
    record_sent(ctx.db, message.id, name, provider_id, _elapsed_ms(started))
    log.info("sms %s to %s accepted by %s", message.id, mask_phone(message.phone), name)
    return AttemptOutcome.ACCEPTED


def _failed(ctx: SmsContext, message: Claimed, name: str, exc: TransportError,
            started: float) -> AttemptOutcome:
    outcome = AttemptOutcome.RETRYABLE if exc.retryable else AttemptOutcome.PERMANENT
    log.warning("sms %s to %s: %s failed (%s, %s)", message.id, mask_phone(message.phone),
                name, exc.code, outcome.value)
    with ctx.db.write() as session:
        session.add(SendAttempt(message_id=message.id, provider=name, outcome=outcome.value,
                                error_code=exc.code[:40], error=str(exc)[:200],
                                latency_ms=_elapsed_ms(started)))
        if outcome is AttemptOutcome.PERMANENT:
            _set_status(session, message.id, MessageStatus.FAILED, f"{name}: {exc.code}")
    return outcome


def _elapsed_ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)


def claim(db: Database, message_id: int) -> Claimed | None:
    """Move a ``queued`` message to ``sending``; None if another run got it or it is done."""
    with db.write() as session:
        claimed = session.execute(
            update(Message).where(Message.id == message_id,
                                  Message.status == MessageStatus.QUEUED.value)
            .values(status=MessageStatus.SENDING.value, updated_at=utcnow()))
        if claimed.rowcount != 1:
            return None
        message = session.get(Message, message_id)
        tried = session.scalars(select(SendAttempt.provider).where(
            SendAttempt.message_id == message_id,
            SendAttempt.outcome == AttemptOutcome.ACCEPTED.value))
        return Claimed(message.id, message.phone, message.kind, message.body,
                       message.expires_at, frozenset(tried))


def record_sent(db: Database, message_id: int, provider: str, provider_id: str,
                latency_ms: int) -> None:
    """The provider accepted the message: one attempt row and the message is ``sent``."""
    now = utcnow()
    with db.write() as session:
        session.add(SendAttempt(message_id=message_id, provider=provider, latency_ms=latency_ms,
                                outcome=AttemptOutcome.ACCEPTED.value,
                                provider_message_id=provider_id))
        session.execute(update(Message).where(Message.id == message_id).values(
            status=MessageStatus.SENT.value, provider=provider, status_reason="",
            provider_message_id=provider_id, sent_at=now, updated_at=now))


def finish(db: Database, message_id: int, status: MessageStatus, reason: str) -> None:
    """Give a message its final status."""
    with db.write() as session:
        _set_status(session, message_id, status, reason)


def release(db: Database, message_id: int, reason: str) -> None:
    """Hand a claimed message back (``queued``) for RQ's retry or the sweeper."""
    with db.write() as session:
        _set_status(session, message_id, MessageStatus.QUEUED, reason)


def _set_status(session, message_id: int, status: MessageStatus, reason: str) -> None:
    session.execute(update(Message).where(Message.id == message_id).values(
        status=status.value, status_reason=reason[:200], updated_at=utcnow()))
