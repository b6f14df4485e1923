"""Send a batch of ledger messages: claim them, try providers in failover order for each,
several at once, and record every attempt.

A job claims up to its queue's ``batch_size`` messages (gateway/sms/claims.py) and hands each
to the process's thread pool (``sms.send_threads``, one connection pool per provider). Each
message tries the providers in failover order: a retryable error or a timeout moves on to the
next at once; a provider whose circuit is open (gateway/sms/breaker.py) or whose rate limit
is spent is skipped, and the skip is an attempt row with its reason. Outcomes are written as
they come back; a message no provider took goes back to ``queued`` with its next round
scheduled (gateway/sms/retries.py).

A try starts only if it can end within ``stale_after_seconds`` of the claim, so the sweeper
hands back only the messages of a worker that died. A worker killed mid-batch leaves them
``sending``; ``stale_after_seconds`` later they are sent again, and those a provider was
accepting at the moment of the kill (at most ``send_threads`` in flight) reach the phone
twice: Twilio's and Africa's Talking's send APIs take no idempotency key.
"""
from __future__ import annotations

import datetime as dt
import logging
import time
from collections import Counter
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from dataclasses import dataclass, field

import redis

from gateway.config import Settings
from gateway.sms import claims, dlt, metrics, otp_codes, outbox, retries
from gateway.sms.breaker import Breaker, build_breaker
from gateway.sms.claims import Claimed, Settled, attempt_row
from gateway.sms.errors import TransportError
from gateway.sms.providers import Provider, build_providers
from gateway.sms.ratelimit import MAX_WAIT_S, RateLimiter
from gateway.sms.router import Router
from gateway.sms.secrets import mask_phone
from gateway.storage import Database
from gateway.storage.ledger import AttemptOutcome, MessageKind, MessageStatus
from gateway.storage.models import utcnow
from gateway.text.times import as_utc

log = logging.getLogger("vaxgate.sms")
SETTLE_MARGIN_S = 2  # between a job's last try and the sweeper's stale_after_seconds


@dataclass
class SmsContext:
    """What a worker needs to send: settings, storage, providers and their guards."""

    settings: Settings
    db: Database
    redis: redis.Redis
    providers: dict[str, Provider]
    router: Router
    breakers: dict[str, Breaker] = field(default_factory=dict)
    limiter: RateLimiter | None = None
    queue_redis: redis.Redis | None = None  # RQ queues and locks; None: ``redis``
    # per queue: the same providers with that queue's timeouts (default: ``providers``)
    queue_providers: dict[str, dict[str, Provider]] = field(default_factory=dict)
    _pool: ThreadPoolExecutor | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if self.queue_redis is None:
            self.queue_redis = self.redis

    @classmethod
    def build(cls, settings: Settings, db: Database, redis_conn: redis.Redis,
              queue_conn: redis.Redis | None = None) -> SmsContext:
        """Providers from settings, with a Redis-shared breaker and rate limit for each.

        ``redis_conn`` holds what may expire (OTP codes, breakers, rate limits);
        ``queue_conn`` the RQ queues the jobs go to (default: the same Redis)."""
        per_queue = {q: build_providers(settings, db=db, queue=q) for q in outbox.QUEUES}
        providers = per_queue["notify"]
        return cls(settings=settings, db=db, redis=redis_conn, providers=providers,
                   router=Router(list(providers), settings.sms.routes),
                   breakers={n: build_breaker(n, redis_conn, settings.sms) for n in providers},
                   limiter=RateLimiter(redis_conn), queue_redis=queue_conn,
                   queue_providers=per_queue)

    def provider(self, queue: str, name: str) -> Provider:
        """Provider ``name`` with the timeouts of ``queue``."""
        return self.queue_providers.get(queue, self.providers)[name]

    @property
    def pool(self) -> ThreadPoolExecutor:
        """The process's senders, reused by every job."""
        if self._pool is None:
            self._pool = ThreadPoolExecutor(self.settings.sms.send_threads,
                                            thread_name_prefix="vaxgate-sms")
        return self._pool


@dataclass
class Round:
    """One message's way through the providers in one job: its attempt rows so far."""

    message: Claimed
    attempts: list[dict] = field(default_factory=list)
    waits: list[float] = field(default_factory=list)  # until each skipped provider is free
    tried: bool = False  # some provider really failed it

    def skip(self, name: str, code: str, why: str, wait_s: float) -> None:
        """Provider ``name`` was not tried (``code``: circuit_open, rate_limited)."""
        self.attempts.append(attempt_row(self.message.id, name, AttemptOutcome.SKIPPED.value,
                                         error_code=code, error=why))
        self.waits.append(wait_s)
        metrics.SKIPPED.labels(name, code).inc()

    def ends(self, status: MessageStatus, reason: str = "", **fields) -> Settled:
        """The message's outcome, with every attempt row of this round."""
        return Settled(self.message, status, reason, self.attempts, **fields)


def is_expired(expires_at: dt.datetime | None, now: dt.datetime | None = None) -> bool:
    """True once ``expires_at`` (if any) has passed."""
    return expires_at is not None and as_utc(expires_at) <= (now or utcnow())


def send_messages(ctx: SmsContext, ids: list[int], queue: str = "notify") -> dict[str, int]:
    """Claim ``ids`` (topped up with other due messages of ``queue``), send them at once;
    return how many ended in each status."""
    sms = ctx.settings.sms
    claimed = claims.claim(ctx.db, ids, kinds=outbox.KINDS_OF_QUEUE[queue],
                           limit=sms.queues[queue].batch_size)
    deadline = time.monotonic() + sms.stale_after_seconds - SETTLE_MARGIN_S
    pending = {ctx.pool.submit(deliver, ctx, m, queue, deadline) for m in claimed}
    ended: Counter[str] = Counter()
    while pending:
        done, pending = wait(pending, return_when=FIRST_COMPLETED)
        results = [future.result() for future in done]
        _settle(ctx, queue, results)
        ended.update(r.status.value for r in results)
    return dict(ended)


def _settle(ctx: SmsContext, queue: str, results: list[Settled]) -> None:
    """Write outcomes, then wake a worker when those queued again are due."""
    claims.settle(ctx.db, results)
    for result in results:
        if result.message.kind == MessageKind.OTP.value:
            if result.status is MessageStatus.SENT:
                metrics.OTP_SENT.inc()
            elif result.status is MessageStatus.EXPIRED:
                metrics.OTP_EXPIRED.inc()
    try:
        retries.schedule(ctx.queue_redis, ctx.settings.sms, queue, results)
    except redis.RedisError as exc:  # the rounds are in SQL: the sweeper enqueues them
        log.warning("could not schedule SMS retries (%s); the sweeper will", type(exc).__name__)


def deliver(ctx: SmsContext, message: Claimed, queue: str, deadline: float) -> Settled:
    """Take one claimed message through the providers; never raises (runs in the pool)."""
    try:
        return _route(ctx, message, queue, deadline)
    except Exception:  # a bug must not strand the message in 'sending'
        log.exception("sms %s: sending failed unexpectedly", message.id)
        return _again(ctx, queue, Round(message, tried=True), "internal error")


def _route(ctx: SmsContext, message: Claimed, queue: str, deadline: float) -> Settled:
    """Refusals first, then each provider in failover order until one takes it."""
    refused = dlt.refusal(ctx.settings.sms, message)
    if refused:  # an operator would drop it silently: never hand it to a provider
        return Settled(message, MessageStatus.FAILED, refused)
    if is_expired(message.expires_at):
        return Settled(message, MessageStatus.EXPIRED, "expired before it could be sent")
    body = _body(ctx, message)
    if body is None:
        return Settled(message, MessageStatus.FAILED, "OTP code no longer available")
    order = ctx.router.order(message.phone, exclude=message.tried, last=message.last)
    if not order:
        return Settled(message, MessageStatus.FAILED, "every provider was already tried")
    way = Round(message)
    for name in order:
        if is_expired(message.expires_at):
            return way.ends(MessageStatus.EXPIRED, "expired before it could be sent")
        provider = ctx.provider(queue, name)
        if time.monotonic() + sum(provider.timeout) + MAX_WAIT_S > deadline:
            return way.ends(MessageStatus.QUEUED, "this job ran out of time; next job",
                            next_attempt_at=utcnow(), retries=message.retries)
        ended = _try(ctx, way, provider, body)
        if ended is not None:
            return ended
    return _again(ctx, queue, way, "no provider took it")


def _body(ctx: SmsContext, message: Claimed) -> str | None:
    """The text to send: OTP bodies get their code back from the sealed copy in Redis."""
    if message.kind != MessageKind.OTP.value:
        return message.body
    code = otp_codes.unseal(ctx.redis, ctx.settings.secret_key, message.id)
    return None if code is None else message.body.replace(otp_codes.CODE_MASK, code, 1)


def _try(ctx: SmsContext, way: Round, provider: Provider, body: str) -> Settled | None:
    """One provider: skipped, failed (None: try the next) or the message's end."""
    name, message = provider.name, way.message
    admitted = ctx.breakers[name].admit(probe_seconds=sum(provider.timeout) + 1)
    if not admitted.go:
        way.skip(name, "circuit_open", f"circuit open; next probe in {admitted.wait:.1f}s",
                 admitted.wait)
        return None
    if ctx.limiter and not ctx.limiter.acquire(name, provider.config.rate_per_second):
        way.skip(name, "rate_limited", "rate limit spent for this second", MAX_WAIT_S)
        return None
    started = time.monotonic()
    try:
        provider_id = provider.send(message.phone, body, dlt.tag(ctx.settings.sms, message))
    except TransportError as exc:
        return _failed(ctx, way, name, exc, started)
    except Exception as exc:  # a provider bug must not strand the message in 'sending'
        log.exception("sms %s: %s raised unexpectedly", message.id, name)
        return _failed(ctx, way, name, TransportError(type(exc).__name__, code="internal",
                                                      retryable=True), started)
    ctx.breakers[name].succeeded()
    metrics.SEND_SECONDS.labels(name).observe(time.monotonic() - started)
    metrics.SENT.labels(name, message.kind).inc()
    way.attempts.append(attempt_row(message.id, name, AttemptOutcome.ACCEPTED.value,
                                    latency_ms=_elapsed_ms(started),
                                    provider_message_id=provider_id,
                                    report_requested=provider.requests_report))
    log.info("sms %s to %s accepted by %s", message.id, mask_phone(message.phone), name)
    return way.ends(MessageStatus.SENT, provider=name, provider_message_id=provider_id)


def _failed(ctx: SmsContext, way: Round, name: str, exc: TransportError,
            started: float) -> Settled | None:
    """Record a failed try; a permanent error ends the message, a retryable one does not."""
    outcome = AttemptOutcome.RETRYABLE if exc.retryable else AttemptOutcome.PERMANENT
    if exc.retryable:
        ctx.breakers[name].failed(timed_out=exc.code == "timeout")
    else:  # the provider answered: it is healthy, the recipient is not
        ctx.breakers[name].succeeded()
    log.warning("sms %s to %s: %s failed (%s, %s)", way.message.id,
                mask_phone(way.message.phone), name, exc.code, outcome.value)
    metrics.SEND_SECONDS.labels(name).observe(time.monotonic() - started)
    metrics.FAILED.labels(name, outcome.value).inc()
    way.attempts.append(attempt_row(way.message.id, name, outcome.value, error_code=exc.code,
                                    error=str(exc), latency_ms=_elapsed_ms(started)))
    if outcome is AttemptOutcome.PERMANENT:
        return way.ends(MessageStatus.FAILED, f"{name}: {exc.code}")
    way.tried = True
    return None


def _again(ctx: SmsContext, queue: str, way: Round, why: str) -> Settled:
    """Back to ``queued`` for its next round, or ``expired`` if that comes too late."""
    message = way.message
    delay, after = retries.next_round(ctx.settings.sms, queue, message.retries, way.tried,
                                      way.waits)
    when = retries.at(delay)
    tried = ", ".join(f"{a['provider']} {a['error_code']}" for a in way.attempts)
    if message.expires_at is not None and as_utc(message.expires_at) <= when:
        return way.ends(MessageStatus.EXPIRED, f"{why} before it expired ({tried})")
    return way.ends(MessageStatus.QUEUED, f"{why} ({tried}); next try in {delay:g} s",
                    next_attempt_at=when, retries=after)


def _elapsed_ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)
