"""Admission control: a ceiling on concurrent USSD/IVR sessions and a fair virtual queue.

Shared by every web worker through Redis. A new caller is admitted while the number of
active sessions plus outstanding turn passes is below the ceiling; past it, they get a
place in a first-come-first-served queue and an END screen saying so. A cron job hands
out *turn passes* as capacity frees up and texts each caller that it is their turn; a pass
admits its holder ahead of everyone for ``pass_window_seconds``. Callers already inside a
session are never cut off: only new sessions are subject to the ceiling.

Redis keys (all under ``vaxgate:admission:``):
``active`` zset session-key → last seen; ``queue`` zset phone → arrival number;
``passes`` zset phone → pass expiry; ``seq`` arrival counter.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

import redis

PREFIX = "vaxgate:admission:"

# KEYS: active, queue, passes, seq.  ARGV: now, idle_cutoff, ceiling, session, phone.
# Returns 0 when admitted, else the caller's 1-based place in the queue.
_ENTER = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', ARGV[1])
if redis.call('ZSCORE', KEYS[3], ARGV[5]) then
  redis.call('ZREM', KEYS[3], ARGV[5])
  redis.call('ZADD', KEYS[1], ARGV[1], ARGV[4])
  return 0
end
local waiting = redis.call('ZCARD', KEYS[2])
local used = redis.call('ZCARD', KEYS[1]) + redis.call('ZCARD', KEYS[3])
if waiting == 0 and used < tonumber(ARGV[3]) then
  redis.call('ZADD', KEYS[1], ARGV[1], ARGV[4])
  return 0
end
if not redis.call('ZSCORE', KEYS[2], ARGV[5]) then
  redis.call('ZADD', KEYS[2], redis.call('INCR', KEYS[4]), ARGV[5])
end
return redis.call('ZRANK', KEYS[2], ARGV[5]) + 1
"""

# KEYS: active, queue, passes.  ARGV: now, idle_cutoff, ceiling, pass_expiry.
# Moves as many queued phones as there is free capacity into passes; returns them.
_RELEASE = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', ARGV[1])
local free = tonumber(ARGV[3]) - redis.call('ZCARD', KEYS[1]) - redis.call('ZCARD', KEYS[3])
if free <= 0 then return {} end
local phones = redis.call('ZRANGE', KEYS[2], 0, free - 1)
for _, phone in ipairs(phones) do
  redis.call('ZREM', KEYS[2], phone)
  redis.call('ZADD', KEYS[3], ARGV[4], phone)
end
return phones
"""


@dataclass(frozen=True)
class Verdict:
    """Admitted, or the caller's place in the virtual queue."""

    admitted: bool
    position: int = 0


class Admission:
    """The session ceiling and virtual queue, shared by all processes through Redis."""

    def __init__(self, client: redis.Redis, ceiling: int, idle_seconds: int,
                 pass_window_seconds: int):
        self.client = client
        self.ceiling = ceiling
        self.idle_seconds = idle_seconds
        self.pass_window_seconds = pass_window_seconds
        if ceiling > 0:
            self._enter = client.register_script(_ENTER)
            self._release = client.register_script(_RELEASE)
        self.keys = [PREFIX + name for name in ("active", "queue", "passes", "seq")]

    @classmethod
    def from_settings(cls, client: redis.Redis, settings) -> Admission:
        """The deployment's ceiling (``admission:``), idle after the USSD session TTL."""
        return cls(client, settings.admission.max_active_sessions,
                   idle_seconds=settings.ussd.session_ttl_seconds,
                   pass_window_seconds=settings.admission.pass_window_seconds)

    @classmethod
    def unlimited(cls) -> Admission:
        """No ceiling (for tests and tools that drive the protocol directly)."""
        return cls(None, 0, 0, 0)  # type: ignore[arg-type]

    @property
    def enabled(self) -> bool:
        return self.ceiling > 0

    def enter(self, session_key: str, phone: str) -> Verdict:
        """Admit a new session, or queue its phone (keeping an earlier place)."""
        if not self.enabled:
            return Verdict(True)
        now = time.time()
        place = self._enter(keys=self.keys, args=[now, now - self.idle_seconds, self.ceiling,
                                                  session_key, phone])
        return Verdict(True) if place == 0 else Verdict(False, int(place))

    def activity(self, session_key: str, ended: bool) -> tuple[str, str, str] | None:
        """How a step updates the active set (``SessionStore.end_step(active=...)``): an
        admitted session stays counted ('touch') until it ends ('leave'); None without a
        ceiling."""
        if not self.enabled:
            return None
        return self.keys[0], session_key, "leave" if ended else "touch"

    def release_turns(self) -> list[str]:
        """Give turn passes to as many queued phones as there is room for; return them."""
        if not self.enabled:
            return []
        now = time.time()
        phones = self._release(keys=self.keys[:3], args=[
            now, now - self.idle_seconds, self.ceiling, now + self.pass_window_seconds])
        return [p.decode() if isinstance(p, bytes) else p for p in phones]

    def waiting(self) -> int:
        """How many phones are in the virtual queue."""
        return int(self.client.zcard(self.keys[1]))
