"""At most ``upstream.max_in_flight`` requests to one registry at once, across all workers.

A counting semaphore in one Redis sorted set: each holder is a member scored by when its
lease ends, so a worker killed mid-request frees its slot when the lease passes (about two
request timeouts). Taking a slot is one Lua script: drop expired leases, count, add.
"""
from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import redis

from gateway.config import UpstreamSettings
from gateway.upstream.breaker import NAMESPACE, now_ms, registry_key

# KEYS[1] the set; ARGV: now_ms, lease_ms, cap, token. Returns 1 when the slot is taken.
_TAKE = """
local now = tonumber(ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[3]) then return 0 end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[4])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1
"""


class Slots:
    """The in-flight requests to one upstream registry."""

    def __init__(self, redis_conn: redis.Redis, config: UpstreamSettings):
        self.redis, self.config = redis_conn, config
        self.key = f"{NAMESPACE}:{registry_key(config.url)}:in_flight"
        self.lease_ms = int((2 * config.timeout_seconds + 10) * 1000)
        self._take = redis_conn.register_script(_TAKE)

    def take(self) -> str | None:
        """A token for a free slot, or None when ``max_in_flight`` requests are out."""
        token = uuid.uuid4().hex
        taken = self._take(keys=[self.key], args=[now_ms(), self.lease_ms,
                                                  self.config.max_in_flight, token])
        return token if taken else None

    def give_back(self, token: str) -> None:
        """Free the slot ``token`` holds."""
        self.redis.zrem(self.key, token)

    @contextmanager
    def held(self) -> Iterator[bool]:
        """``with slots.held() as got:`` holds a slot for the block when ``got``."""
        token = self.take()
        try:
            yield token is not None
        finally:
            if token is not None:
                self.give_back(token)

    def in_use(self) -> int:
        """How many leases are live now."""
        return self.redis.zcount(self.key, now_ms(), "+inf")
