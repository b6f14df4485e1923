"""Failed-attempt counters in Redis: how many wrong OTPs or PINs per phone, source or account.

A fixed window per key: the first failure starts it, and once ``limit`` failures are counted
the key is blocked until the window ends (``retry_after`` says how long). Counting is one
atomic script, so a crash between the increment and the expiry cannot leave a key that
blocks forever.
"""
from __future__ import annotations

import redis

_COUNT = """
local n = redis.call('INCR', KEYS[1])
if redis.call('TTL', KEYS[1]) < 0 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
return n
"""


class FailureCounter:
    """Wrong attempts per key within ``window_s`` seconds; blocked from ``limit`` on."""

    def __init__(self, conn: redis.Redis, prefix: str, limit: int, window_s: int):
        self.conn = conn
        self.prefix = prefix
        self.limit = limit
        self.window_s = window_s

    def retry_after(self, key: str) -> int:
        """Seconds until ``key`` may try again; 0 when it is not blocked."""
        name = self._name(key)
        count = self.conn.get(name)
        if count is None or int(count) < self.limit:
            return 0
        return max(1, int(self.conn.ttl(name)))

    def fail(self, key: str) -> int:
        """Count one failure for ``key``; the count in the current window."""
        return int(self.conn.eval(_COUNT, 1, self._name(key), self.window_s))

    def reset(self, key: str) -> None:
        self.conn.delete(self._name(key))

    def _name(self, key: str) -> str:
        return f"{self.prefix}:{key}"
