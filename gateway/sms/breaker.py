"""One circuit breaker per provider, its state shared by every worker and thread through Redis.

Closed: every send goes through. ``fail_max`` retryable failures in a row, or one timeout,
open it: a provider that hangs costs each sender one timeout, not one per queued message.
Open: senders skip it until ``reset_seconds`` have passed since it opened; then exactly one
caller (across all workers) gets the probe, the others keep skipping while it is in flight.
The probe's success closes the circuit, its failure opens it for another ``reset_seconds``.

Not pybreaker: its ``call`` holds a per-object lock for the whole call (one send at a time
per process), and its half-open state lets every concurrent caller through. Each
transition here is one Lua script on one hash (hash tag: the provider) — atomic, and fine on
Redis Cluster. If Redis fails, the circuit counts as closed: keep trying providers.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from enum import Enum

import redis

from gateway.config import SmsSettings

NAMESPACE = "vaxgate:sms:breaker"
log = logging.getLogger("vaxgate.sms")

# KEYS: state hash, probe key. ARGV: reset seconds, probe ttl ms.
# Returns {verdict, seconds}: verdict "go" (closed), "probe" (this caller probes) or "wait".
_ADMIT = """
local state = redis.call('HGET', KEYS[1], 'state')
if not state or state == 'closed' then return {'go', '0'} end
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1e6
local wait = tonumber(redis.call('HGET', KEYS[1], 'opened_at') or '0') + tonumber(ARGV[1]) - now
if wait > 0 then return {'wait', tostring(wait)} end
if redis.call('SET', KEYS[2], '1', 'NX', 'PX', ARGV[2]) then return {'probe', '0'} end
return {'wait', tostring(math.max(redis.call('PTTL', KEYS[2]), 100) / 1000)}
"""

# KEYS: state hash, probe key. ARGV: ok (1/0), open now (1/0), fail_max.
# Returns the state after the call.
_RECORD = """
local state = redis.call('HGET', KEYS[1], 'state') or 'closed'
if ARGV[1] == '1' then
  if state ~= 'closed' then
    redis.call('HSET', KEYS[1], 'state', 'closed', 'fails', 0)
    redis.call('DEL', KEYS[2])
  elseif (redis.call('HGET', KEYS[1], 'fails') or '0') ~= '0' then
    redis.call('HSET', KEYS[1], 'fails', 0)
  end
  return 'closed'
end
local fails = redis.call('HINCRBY', KEYS[1], 'fails', 1)
if state ~= 'closed' or ARGV[2] == '1' or fails >= tonumber(ARGV[3]) then
  local t = redis.call('TIME')
  redis.call('HSET', KEYS[1], 'state', 'open', 'fails', 0,
             'opened_at', tostring(tonumber(t[1]) + tonumber(t[2]) / 1e6))
  redis.call('DEL', KEYS[2])
  return 'open'
end
return 'closed'
"""


class State(str, Enum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half-open"  # open, and its next probe may go (or is in flight)


@dataclass(frozen=True)
class Admission:
    """May a send go to the provider now? If not, ``wait`` seconds until it may be probed."""

    go: bool
    probe: bool = False
    wait: float = 0.0


class Breaker:
    """The circuit of provider ``name``; safe to share between threads."""

    def __init__(self, name: str, redis_conn: redis.Redis, fail_max: int, reset_seconds: float):
        self.name = name
        self.redis = redis_conn
        self.fail_max = fail_max
        self.reset_seconds = reset_seconds
        tag = f"{NAMESPACE}:{{{name}}}"  # one hash slot per provider
        self.keys = [f"{tag}:state", f"{tag}:probe"]
        self._admit = redis_conn.register_script(_ADMIT)
        self._record = redis_conn.register_script(_RECORD)

    def admit(self, probe_seconds: float) -> Admission:
        """Whether to send now; a probe holds the provider for at most ``probe_seconds``."""
        try:
            verdict, seconds = self._admit(keys=self.keys, args=[
                self.reset_seconds, max(100, int(probe_seconds * 1000))])
        except redis.RedisError as exc:
            log.warning("breaker %s: Redis failed (%s); treating as closed", self.name,
                        type(exc).__name__)
            return Admission(True)
        verdict = verdict.decode() if isinstance(verdict, bytes) else verdict
        return Admission(verdict != "wait", verdict == "probe", float(seconds))

    def succeeded(self) -> None:
        """The provider answered (accepted, or refused the recipient): close the circuit."""
        self._call_record(ok=True, open_now=False)

    def failed(self, timed_out: bool = False) -> bool:
        """A retryable failure; a timeout opens the circuit at once. True if now open."""
        return self._call_record(ok=False, open_now=timed_out) == State.OPEN.value

    def _call_record(self, ok: bool, open_now: bool) -> str:
        try:
            state = self._record(keys=self.keys, args=[int(ok), int(open_now), self.fail_max])
        except redis.RedisError:
            return State.CLOSED.value
        return state.decode() if isinstance(state, bytes) else state

    def state(self) -> State:
        """closed, open, or half-open (its reset time has passed: the next send probes)."""
        raw = self.redis.hmget(self.keys[0], "state", "opened_at")
        if raw[0] in (None, b"closed"):
            return State.CLOSED
        seconds, micros = self.redis.time()
        opened = float(raw[1] or 0)
        return State.OPEN if seconds + micros / 1e6 < opened + self.reset_seconds \
            else State.HALF_OPEN


def build_breaker(name: str, redis_conn: redis.Redis, settings: SmsSettings) -> Breaker:
    """A breaker for provider ``name`` whose state lives in Redis."""
    return Breaker(name, redis_conn, settings.breaker_fail_max, settings.breaker_reset_seconds)
