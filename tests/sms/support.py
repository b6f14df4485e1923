"""Constants and helpers for the SMS tests (the fixtures are in conftest.py)."""
from __future__ import annotations

import time
from collections.abc import Callable

from rq.scheduler import RQScheduler
from sqlalchemy import func, select

from gateway.sms import outbox
from gateway.sms.outbox import QUEUES
from gateway.storage.ledger import Message, SendAttempt

TWILIO_SID = "AC" + "1" * 32
TWILIO_TOKEN = "twilio-token-0123456789abcdef"
AT_KEY = "at-api-key-0123456789abcdef"
AT_SECRET = "at-webhook-secret-42"
API_KEY = "portal-key-123"
PHONE = "+919812345678"


def provider_config(fake_url: str, timeout: float = 1.0) -> list[dict]:
    """Twilio first, Africa's Talking second, both on the fake server."""
    return [
        {"name": "twilio", "kind": "twilio", "base_url": fake_url, "sender": "+15005550006",
         "timeout_seconds": timeout,
         "credentials_env": {"account_sid": "TWILIO_ACCOUNT_SID",
                             "auth_token": "TWILIO_AUTH_TOKEN"}},
        {"name": "africastalking", "kind": "africastalking", "base_url": fake_url,
         "sender": "VAXGATE", "timeout_seconds": timeout, "webhook_secret_env": "AT_WEBHOOK_SECRET",
         "credentials_env": {"username": "AT_USERNAME", "api_key": "AT_API_KEY"}},
    ]


def run_worker(ctx) -> None:
    """Drain every SMS queue in-process, as a real worker would (the project's ``Worker``:
    RQ's own SimpleWorker may wait out a 60 s read when it stops, rq/rq#1613)."""
    from workers.worker import Worker

    Worker(list(QUEUES), connection=ctx.redis).work(burst=True)


def drive(ctx, done: Callable[[], bool], timeout: float = 20.0) -> bool:
    """What a worker does, in this process, until ``done()``: RQ's scheduler enqueues the
    retries now due, then the queues are drained. False if ``timeout`` passed first."""
    scheduler = RQScheduler(list(QUEUES), connection=ctx.redis)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        scheduler.prepare_registries(list(QUEUES))  # no lock: this is the only scheduler
        scheduler.enqueue_scheduled_jobs()
        run_worker(ctx)
        if done():
            return True
        time.sleep(0.05)
    return False


def with_sms(settings, **changes):
    """``settings`` with these ``sms`` settings changed (validated again)."""
    data = settings.model_dump()
    data["sms"] = {**data["sms"], **changes}
    return type(settings).model_validate(data)


def record(db, phone: str = PHONE, kind: str = "confirmation", key: str = "k1",
           body: str = "Booked", expires_at=None) -> int:
    with db.write() as session:
        return outbox.record_message(session, phone=phone, kind=kind, body=body, lang="en",
                                     budget=None, dedupe_key=key, expires_at=expires_at).id


def message(db, message_id: int) -> Message:
    with db.read() as session:
        return session.get(Message, message_id)


def attempts(db, message_id: int) -> list[tuple[str, str, str]]:
    with db.read() as session:
        rows = session.scalars(select(SendAttempt).where(SendAttempt.message_id == message_id)
                               .order_by(SendAttempt.id))
        return [(a.provider, a.outcome, a.error_code) for a in rows]


def count_attempts(db, outcome: str = "accepted") -> int:
    with db.read() as session:
        return session.scalar(select(func.count()).select_from(SendAttempt)
                              .where(SendAttempt.outcome == outcome))
