"""One circuit breaker per provider, its state shared by every worker through Redis.

pybreaker's ``CircuitRedisStorage`` fits: state, failure counter and opening time live in
Redis keys, so when one worker opens a provider's circuit all workers skip it until
``reset_timeout`` passes and one probe call is let through. Only retryable errors count
as failures: an invalid number says nothing about the provider's health. If Redis itself
fails, pybreaker falls back to "closed" (keep trying providers).
"""
from __future__ import annotations

import pybreaker
import redis

from gateway.config import SmsSettings
from gateway.sms.errors import TransportError

NAMESPACE = "vaxgate:sms:breaker"


def _is_permanent(exc: BaseException) -> bool:
    return isinstance(exc, TransportError) and not exc.retryable


def build_breaker(name: str, redis_conn: redis.Redis, settings: SmsSettings
                  ) -> pybreaker.CircuitBreaker:
    """A breaker for provider ``name`` whose state lives in Redis."""
    storage = pybreaker.CircuitRedisStorage(pybreaker.STATE_CLOSED, redis_conn,
                                            namespace=f"{NAMESPACE}:{name}")
    return pybreaker.CircuitBreaker(fail_max=settings.breaker_fail_max,
                                    reset_timeout=settings.breaker_reset_seconds,
                                    exclude=[_is_permanent], state_storage=storage,
                                    throw_new_error_on_trip=False, name=name)
