"""Per-provider send rates (messages per second), counted in Redis across all workers.

RQ's own ``RateLimit`` caps *concurrency* per key at enqueue time; here the provider is
only chosen inside the job (failover), and the limit is a rate, so a fixed window counter
in Redis is used: ``INCR vaxgate:sms:rate:<provider>:<window>``.
"""
from __future__ import annotations

import math
import time

import redis

PREFIX = "vaxgate:sms:rate"
MAX_WAIT_S = 1.0  # wait this long at most for the next window, then try another provider


class RateLimiter:
    """Fixed-window limiter; ``acquire`` waits briefly for a free slot."""

    def __init__(self, redis_conn: redis.Redis, clock=time.time, sleep=time.sleep):
        self.redis = redis_conn
        self.clock = clock
        self.sleep = sleep

    def acquire(self, provider: str, rate: float | None) -> bool:
        """True if one more message may go to ``provider`` now (``rate`` None = unlimited)."""
        if not rate:
            return True
        window_s = max(1, math.ceil(1 / rate))
        allowed = max(1, int(rate * window_s))
        for _ in range(2):
            now = self.clock()
            window = int(now // window_s)
            if self._count(provider, window, window_s) <= allowed:
                return True
            wait = (window + 1) * window_s - now
            if wait > MAX_WAIT_S:
                return False
            self.sleep(wait)
        return False

    def _count(self, provider: str, window: int, window_s: int) -> int:
        key = f"{PREFIX}:{provider}:{window}"
        pipe = self.redis.pipeline()
        pipe.incr(key)
        pipe.expire(key, window_s + 1)
        return int(pipe.execute()[0])
