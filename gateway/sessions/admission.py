"""Admission control: a ceiling on concurrent USSD/IVR sessions and a fair virtual queue.

Shared by every web worker through Redis, split into ``shards`` independent parts so that
it spreads over a Redis Cluster: a phone belongs to shard ``crc32(phone) % shards``, each
shard holds ``ceiling / shards`` of the places, and each script touches one shard's keys,
all under one hash tag (``vaxgate:admission:{a3}:active``). No key is written on every
step: a session is counted from its first screen (``enter``) until its END screen
(``leave``) or until ``idle_seconds`` after it was admitted, whichever comes first.

A new caller is admitted while their shard's active sessions plus outstanding turn passes
are below the shard's ceiling and nobody waits in that shard; past it, they get a place in
the shard's first-come-first-served queue and an END screen saying so. Whenever a script
finds free places (on ``enter``, ``leave`` or the worker's cron) it hands them to the head
of the queue as *turn passes*, so the queue drains with or without a worker; each pass
admits its holder ahead of everyone for ``pass_window_seconds``, and the phone goes on the
shard's ``notify`` list, from which ``release_turns`` (worker cron) sends the "your turn"
SMS.

Tolerances (docs/deploy.md, "Sessions on a Redis Cluster"): the total never exceeds the
ceiling; FIFO order and the queue place shown hold within a shard; a shard can be full
while another has room when the load is near the ceiling (callers spread over shards by
chance: about ±1/sqrt(places per shard), ±6 % at 250); a session that outlives
``idle_seconds`` from its first screen stops counting.

Keys per shard (under ``vaxgate:admission:{a<k>}:``): ``active`` zset session → admitted
at; ``queue`` zset phone → arrival number; ``passes`` zset phone → pass expiry; ``seq``
arrival counter; ``notify`` list of "phone expiry" awaiting their SMS.
"""
from __future__ import annotations

import time
import zlib
from dataclasses import dataclass

import redis

from gateway.infra.lean_script import LeanScript

PREFIX = "vaxgate:admission:"
PLACES_PER_SHARD = 100  # fewer places than this per shard and the spread costs too much

# Shared head of every script. KEYS: active, queue, passes, seq, notify.
# ARGV[1] now, ARGV[2] idle cutoff, ARGV[3] shard ceiling, ARGV[4] pass expiry.
# Expires old entries and gives free places to the head of the queue.
_RELEASE_FREE = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', ARGV[1])
local free = tonumber(ARGV[3]) - redis.call('ZCARD', KEYS[1]) - redis.call('ZCARD', KEYS[3])
if free > 0 then
  for _, phone in ipairs(redis.call('ZRANGE', KEYS[2], 0, free - 1)) do
    redis.call('ZREM', KEYS[2], phone)
    redis.call('ZADD', KEYS[3], ARGV[4], phone)
    redis.call('RPUSH', KEYS[5], phone .. ' ' .. ARGV[4])
  end
  redis.call('LTRIM', KEYS[5], -10000, -1)
end
"""
# ARGV[5] session, ARGV[6] phone. Returns 0 when admitted, else the place in the queue.
_ENTER = _RELEASE_FREE + """
if redis.call('ZSCORE', KEYS[3], ARGV[6]) then
  redis.call('ZREM', KEYS[3], ARGV[6])
  redis.call('ZADD', KEYS[1], ARGV[1], ARGV[5])
  return 0
end
local used = redis.call('ZCARD', KEYS[1]) + redis.call('ZCARD', KEYS[3])
if redis.call('ZCARD', KEYS[2]) == 0 and used < tonumber(ARGV[3]) then
  redis.call('ZADD', KEYS[1], ARGV[1], ARGV[5])
  return 0
end
if not redis.call('ZSCORE', KEYS[2], ARGV[6]) then
  redis.call('ZADD', KEYS[2], redis.call('INCR', KEYS[4]), ARGV[6])
end
return redis.call('ZRANK', KEYS[2], ARGV[6]) + 1
"""
# ARGV[5] session: frees its place (and hands it on).
_LEAVE = """
redis.call('ZREM', KEYS[1], ARGV[5])
""" + _RELEASE_FREE + "return 1"
# Hands out free places; returns (and forgets) the passes awaiting their SMS.
_RELEASE = _RELEASE_FREE + """
local pending = redis.call('LRANGE', KEYS[5], 0, -1)
redis.call('DEL', KEYS[5])
return pending
"""


@dataclass(frozen=True)
class Verdict:
    """Admitted, or the caller's place in the virtual queue."""

    admitted: bool
    position: int = 0


@dataclass(frozen=True)
class Turn:
    """A queued phone given a turn pass, until ``expires`` (epoch seconds)."""

    phone: str
    expires: float


class Admission:
    """The session ceiling and virtual queue, shared by all processes through Redis."""

    def __init__(self, client: redis.Redis, ceiling: int, idle_seconds: int,
                 pass_window_seconds: int, shards: int = 1):
        self.client = client
        self.ceiling = ceiling
        self.idle_seconds = idle_seconds
        self.pass_window_seconds = pass_window_seconds
        self.shards = max(1, min(shards, ceiling // PLACES_PER_SHARD)) if ceiling > 0 else 1
        if ceiling > 0:
            self._enter = LeanScript(client, _ENTER)
            self._leave = LeanScript(client, _LEAVE)
            self._release = LeanScript(client, _RELEASE)

    @classmethod
    def from_settings(cls, client: redis.Redis, settings) -> Admission:
        """The deployment's ceiling (``admission:``), idle after the USSD session TTL."""
        return cls(client, settings.admission.max_active_sessions,
                   idle_seconds=settings.ussd.session_ttl_seconds,
                   pass_window_seconds=settings.admission.pass_window_seconds,
                   shards=settings.admission.shards)

    @classmethod
    def unlimited(cls) -> Admission:
        """No ceiling (for tests and tools that drive the protocol directly)."""
        return cls(None, 0, 0, 0)  # type: ignore[arg-type]

    @property
    def enabled(self) -> bool:
        return self.ceiling > 0

    def shard_of(self, phone: str) -> int:
        """The shard that counts ``phone``'s sessions and holds its place in the queue."""
        return zlib.crc32(phone.encode()) % self.shards

    def keys(self, shard: int) -> list[str]:
        """The shard's keys, all under one hash tag (one Redis Cluster slot)."""
        return [f"{PREFIX}{{a{shard}}}:{name}"
                for name in ("active", "queue", "passes", "seq", "notify")]

    def shard_ceiling(self, shard: int) -> int:
        """The shard's share of the ceiling (the remainder goes to the first shards)."""
        share, extra = divmod(self.ceiling, self.shards)
        return share + (shard < extra)

    def _args(self, shard: int, *extra: str) -> list:
        now = time.time()
        return [now, now - self.idle_seconds, self.shard_ceiling(shard),
                now + self.pass_window_seconds, *extra]

    def enter(self, session_key: str, phone: str) -> Verdict:
        """Admit a new session, or queue its phone (keeping an earlier place)."""
        if not self.enabled:
            return Verdict(True)
        shard = self.shard_of(phone)
        place = self._enter(keys=self.keys(shard), args=self._args(shard, session_key, phone))
        return Verdict(True) if place == 0 else Verdict(False, int(place))

    def leave(self, session_key: str, phone: str) -> None:
        """An admitted session has ended: free its place for the head of the queue."""
        if self.enabled:
            shard = self.shard_of(phone)
            self._leave(keys=self.keys(shard), args=self._args(shard, session_key))

    def release_turns(self) -> list[Turn]:
        """Give turn passes to as many queued phones as there is room for, in every shard;
        return every pass handed out since the last call (for their SMS)."""
        if not self.enabled:
            return []
        turns = []
        for shard in range(self.shards):
            for item in self._release(keys=self.keys(shard), args=self._args(shard)):
                phone, _, expires = _text(item).partition(" ")
                turns.append(Turn(phone, float(expires)))
        return turns

    def waiting(self) -> int:
        """How many phones are in the virtual queue (all shards: for reports, not steps)."""
        return sum(int(self.client.zcard(self.keys(s)[1])) for s in range(self.shards))

    def active(self) -> int:
        """How many sessions are counted as active (all shards: for reports, not steps)."""
        return sum(int(self.client.zcard(self.keys(s)[0])) for s in range(self.shards))


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
