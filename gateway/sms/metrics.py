"""SMS metrics on ``/metrics``: counters and latency where sends happen (the workers), gauges
computed when ``/metrics`` is scraped, from SQL and Redis (gateway/web/health.py).

With ``PROMETHEUS_MULTIPROC_DIR`` set (``vaxgate run``, gunicorn), the workers' counters are
summed with the web processes'; the gauges keep the most recent scrape's value.
"""
from __future__ import annotations

import datetime as dt

import redis
from prometheus_client import Counter, Gauge, Histogram
from sqlalchemy import func, select

from gateway.config import Settings
from gateway.sms import budget, outbox
from gateway.sms.breaker import State, build_breaker
from gateway.storage import Database
from gateway.storage.ledger import Message, MessageKind, MessageStatus
from gateway.storage.models import utcnow
from gateway.text.times import as_utc

SENT = Counter("vaxgate_sms_sent_total", "SMS accepted by a provider", ["provider", "kind"])
FAILED = Counter("vaxgate_sms_failed_total", "Provider tries that failed",
                 ["provider", "error"])  # error: retryable or permanent
SKIPPED = Counter("vaxgate_sms_skipped_total", "Providers skipped without a try",
                  ["provider", "reason"])  # circuit_open, rate_limited
SEND_SECONDS = Histogram("vaxgate_sms_send_seconds", "One try of one provider, in seconds",
                         ["provider"], buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 3, 5, 10))
QUEUED = Gauge("vaxgate_sms_queued_messages", "Messages not yet accepted by a provider",
               ["kind"], multiprocess_mode="mostrecent")
OLDEST = Gauge("vaxgate_sms_oldest_queued_seconds", "Age of the oldest message not yet sent",
               ["kind"], multiprocess_mode="mostrecent")
JOBS = Gauge("vaxgate_sms_queue_jobs", "RQ send jobs waiting in each queue", ["queue"],
             multiprocess_mode="mostrecent")
BREAKER = Gauge("vaxgate_sms_breaker_state", "1 for each provider's current circuit state",
                ["provider", "state"], multiprocess_mode="mostrecent")
TODAY = Gauge("vaxgate_sms_today", "SMS recorded since local midnight (not those held back)",
              multiprocess_mode="mostrecent")
DAILY_BUDGET_EXCEEDED = Gauge("vaxgate_sms_daily_budget_exceeded",
                              "1 when today's SMS passed sms.budget.deployment_per_day",
                              multiprocess_mode="mostrecent")
OTP_REQUESTED = Counter("vaxgate_otp_requested_total", "OTP codes issued")
OTP_SENT = Counter("vaxgate_otp_sent_total", "OTP SMS accepted by a provider")
OTP_VERIFIED = Counter("vaxgate_otp_verified_total", "OTP codes verified")
OTP_EXPIRED = Counter("vaxgate_otp_expired_total", "OTP SMS that expired before any provider "
                                                   "accepted them")
UNSENT = (MessageStatus.QUEUED.value, MessageStatus.SENDING.value)


def refresh(settings: Settings, db: Database, redis_conn: redis.Redis,
            queue_conn: redis.Redis) -> None:
    """Set the gauges: backlog per kind from SQL, jobs per queue and breakers from Redis."""
    for kind, (count, oldest) in backlog(db).items():
        QUEUED.labels(kind).set(count)
        OLDEST.labels(kind).set(oldest)
    with db.read() as session:
        today = budget.daily_figure(session, settings, utcnow())
    TODAY.set(today.sent_today)
    DAILY_BUDGET_EXCEEDED.set(int(today.exceeded))
    for queue in outbox.QUEUES:
        JOBS.labels(queue).set(queue_conn.llen(f"rq:queue:{queue}"))
    for provider in settings.sms.providers:
        current = build_breaker(provider.name, redis_conn, settings.sms).state()
        for state in State:
            BREAKER.labels(provider.name, state.value).set(int(state is current))


def backlog(db: Database, now: dt.datetime | None = None) -> dict[str, tuple[int, float]]:
    """kind -> (messages not yet sent, age in seconds of the oldest), every kind listed.

    Counted from the (status, kind, next_attempt_at) index; only the oldest row per kind
    is read."""
    now = now or utcnow()
    with db.read() as session:
        counts = session.execute(select(Message.kind, func.count(), func.min(Message.id))
                                 .where(Message.status.in_(UNSENT))
                                 .group_by(Message.kind)).all()
        created = dict(session.execute(select(Message.kind, Message.created_at).where(
            Message.id.in_([first for _, _, first in counts]))).all())
    found = {kind: (n, max(0.0, (now - as_utc(created[kind])).total_seconds()))
             for kind, n, _ in counts}
    return {kind.value: found.get(kind.value, (0, 0.0)) for kind in MessageKind} | found
