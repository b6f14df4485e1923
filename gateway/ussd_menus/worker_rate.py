"""A signed-in health worker's own, higher USSD rate limit.

Citizens' phones are limited by ``admission.rate_limit_per_phone`` in the step's first Redis
round trip. A health worker registering elders one after another passes that limit; once she
has signed in with her PIN her phone carries a mark for ``SIGNED_IN_SECONDS``, and a request
the citizens' limit refused is let through while the phone's count stays within
``admission.rate_limit_health_worker``. Only refused requests pay the extra round trip.
"""
from __future__ import annotations

import redis

from gateway.config import AdmissionSettings
from gateway.sessions.store import SessionStore

SIGNED_IN_SECONDS = 30 * 60  # a shift's redials between two PIN sign-ins


def _mark_key(phone: str) -> str:
    return f"vaxgate:ussd:{{{phone}}}:worker"


def mark_signed_in(client: redis.Redis, phone: str) -> None:
    """Note that the health worker on ``phone`` has just entered her PIN."""
    client.set(_mark_key(phone), 1, ex=SIGNED_IN_SECONDS)


def worker_may_continue(client: redis.Redis, store: SessionStore, phone: str,
                        settings: AdmissionSettings) -> bool:
    """True if a request refused by the citizens' limit is within a signed-in worker's."""
    if not client.exists(_mark_key(phone)):
        return False
    _count, window = settings.rate_limit()
    worker_count, worker_window = settings.health_worker_rate_limit()
    return store.requests_counted(phone) <= worker_count * window // worker_window
