"""The upstream registry's circuit breaker, shared by every worker through one Redis hash.

After ``upstream.breaker_fail_max`` retryable failures in a row the circuit opens: nothing
is sent for ``upstream.breaker_reset_seconds``. Then exactly one caller gets the probe (an
atomic claim with a lease, so a killed prober does not hold it for ever); its answer closes
the circuit or opens it for another period. Any answer other than 429/5xx counts as a
success: the registry is up. Each change is one Lua script, so two workers never both probe
(pybreaker's Redis storage reads and writes in separate round trips).
"""
from __future__ import annotations

import time
from urllib.parse import urlsplit

import redis

from gateway.config import UpstreamSettings

NAMESPACE = "vaxgate:upstream"
CLOSED, HALF_OPEN, OPEN, PROBE = "closed", "half-open", "open", "probe"
KEY_TTL_S = 86400  # failures older than a day say nothing about today

# KEYS[1] the hash; ARGV: now_ms, probe_lease_ms. Returns closed, probe or open.
_ADMIT = """
local opened_until = tonumber(redis.call('HGET', KEYS[1], 'opened_until') or '0')
if opened_until == 0 then return 'closed' end
local now = tonumber(ARGV[1])
local probe_until = tonumber(redis.call('HGET', KEYS[1], 'probe_until') or '0')
if now < opened_until or now < probe_until then return 'open' end
redis.call('HSET', KEYS[1], 'probe_until', now + tonumber(ARGV[2]))
return 'probe'
"""

# KEYS[1] the hash; ARGV: now_ms, fail_max, reset_ms, ttl_s. Returns the failures in a row.
_FAILED = """
local failures = redis.call('HINCRBY', KEYS[1], 'failures', 1)
local opened_until = tonumber(redis.call('HGET', KEYS[1], 'opened_until') or '0')
if failures >= tonumber(ARGV[2]) or opened_until > 0 then
  redis.call('HSET', KEYS[1], 'opened_until', tonumber(ARGV[1]) + tonumber(ARGV[3]),
             'probe_until', 0)
end
redis.call('EXPIRE', KEYS[1], ARGV[4])
return failures
"""


def registry_key(url: str) -> str:
    """The registry a URL names (its host and port): breaker and slots are per registry."""
    return urlsplit(url).netloc or "none"


def now_ms() -> int:
    """Wall-clock milliseconds (every worker's clock, kept by NTP)."""
    return int(time.time() * 1000)


class Breaker:
    """The circuit of one upstream registry, in Redis."""

    def __init__(self, redis_conn: redis.Redis, config: UpstreamSettings):
        self.redis, self.config = redis_conn, config
        self.key = f"{NAMESPACE}:{registry_key(config.url)}:breaker"
        self._admit = redis_conn.register_script(_ADMIT)
        self._failed = redis_conn.register_script(_FAILED)

    def admit(self) -> str:
        """``closed`` (send), ``probe`` (send: the one trial call) or ``open`` (hold back)."""
        lease_ms = int((2 * self.config.timeout_seconds + 10) * 1000)
        answer = self._admit(keys=[self.key], args=[now_ms(), lease_ms])
        return answer.decode() if isinstance(answer, bytes) else answer

    def record(self, healthy: bool) -> None:
        """Count one answer: a healthy one closes the circuit, a failure may open it."""
        if healthy:
            self.redis.delete(self.key)
            return
        self._failed(keys=[self.key], args=[now_ms(), self.config.breaker_fail_max,
                                            self.config.breaker_reset_seconds * 1000, KEY_TTL_S])

    def state(self) -> str:
        """closed, open, or half-open (the next caller may probe); reads only."""
        opened_until, probe_until = (int(float(v or 0)) for v in self.redis.hmget(
            self.key, "opened_until", "probe_until"))
        if not opened_until:
            return CLOSED
        return OPEN if now_ms() < max(opened_until, probe_until) else HALF_OPEN
