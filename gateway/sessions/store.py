"""Session records in Redis for the USSD and IVR channels, and redial-to-resume.

A record is plain JSON: the engine state plus what the channel adapter needs (for USSD the
input history already consumed and the page shown). Records expire on their own; a phone's
last unfinished record is remembered for ``resume_window`` seconds so a dropped session
can be continued on redial.

A record belongs to the phone that started it: every key of a step is under that phone's
hash tag (``vaxgate:ussd:{+919812345678}:session:<id>``), so another number sending the
same session id opens a fresh session of its own and can neither read nor continue the
first one (counted in ``vaxgate_session_phone_mismatch_total``). One tag per step also keeps
each script's keys in one Redis Cluster slot.

A session id's first step also notes which phone opened it and counts the session as
opened (:func:`opened_since`, the dashboard's "dialled"), in one script under a tag of the
session id's own (one of ``OPENED_SHARDS``), so that no key is written by every new session.
"""
from __future__ import annotations

import datetime as dt
import json
import random
import time
import zlib
from dataclasses import dataclass
from typing import Any

import redis
from prometheus_client import Counter

from gateway.infra.lean_script import LeanScript

Record = dict[str, Any]

# One round trip to open a step. KEYS: rate counter, lock, session, the phone's resume copy.
# ARGV: rate limit (0 = none), rate window s, lock token, lock ms.
# Returns {status, record, resume copy (only when there is no record)}.
_BEGIN_STEP = """
if tonumber(ARGV[1]) > 0 then
  local n = redis.call('INCR', KEYS[1])
  if n == 1 then redis.call('EXPIRE', KEYS[1], ARGV[2]) end
  if n > tonumber(ARGV[1]) then return {'limited'} end
end
if not redis.call('SET', KEYS[2], ARGV[3], 'NX', 'PX', ARGV[4]) then return {'busy'} end
local record = redis.call('GET', KEYS[3])
if record then return {'ok', record} end
return {'ok', false, redis.call('GET', KEYS[4])}
"""
# One round trip to close a step. KEYS: session, the phone's resume copy, lock.
# ARGV: record JSON ('' = nothing to save), ttl s, resume window s (0 = drop the copy),
# lock token.
_END_STEP = """
if ARGV[1] ~= '' then
  redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
  if tonumber(ARGV[3]) > 0 then redis.call('SET', KEYS[2], ARGV[1], 'EX', ARGV[3])
  else redis.call('DEL', KEYS[2]) end
end
if redis.call('GET', KEYS[3]) == ARGV[4] then redis.call('DEL', KEYS[3]) end
return 1
"""
# A new session's first step. KEYS: the session id's owner, its shard's counter of sessions
# opened in this bucket (one hash tag). ARGV: phone, owner ttl s, counter ttl s.
# Returns 1 when the phone owns the session id (or claims it now), 0 when another does.
_CLAIM = """
redis.call('INCR', KEYS[2])
redis.call('EXPIRE', KEYS[2], ARGV[3])
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'EX', ARGV[2]) then return 1 end
local owner = redis.call('GET', KEYS[1])
if not owner or owner == ARGV[1] then return 1 end
return 0
"""
LOCK_MS = 5000
OPENED_BUCKET_S = 600
OPENED_SHARDS = 16
OPENED_KEEP_S = 2 * 24 * 3600
SESSION_PHONE_MISMATCH = Counter(
    "vaxgate_session_phone_mismatch_total",
    "Requests carrying another phone's session id (answered as a fresh session)", ["channel"])


@dataclass
class Step:
    """An opened step: ``status`` is ok, limited (rate limit hit) or busy (lock held).

    ``offered``: for a new session (no record), the phone's unfinished record from an
    earlier session, if any. It is not removed: ``end_step`` replaces or drops it when it
    saves the new session's record, so a step that fails or saves nothing keeps it."""

    status: str
    record: Record | None = None
    token: str = ""
    offered: Record | None = None


class SessionStore:
    """Load and save per-session records, and the per-phone resume pointer."""

    def __init__(self, client: redis.Redis, channel: str, ttl: int, resume_window: int):
        self.client = client
        self.channel = channel
        self.ttl = ttl
        self.resume_window = resume_window
        self._begin = LeanScript(client, _BEGIN_STEP)  # no round trip until first call
        self._end = LeanScript(client, _END_STEP)
        self._claim_script = LeanScript(client, _CLAIM)

    def _key(self, phone: str, session_id: str) -> str:
        return f"vaxgate:{self.channel}:{{{phone}}}:session:{session_id}"

    def _resume_key(self, phone: str) -> str:
        return f"vaxgate:{self.channel}:{{{phone}}}:resume"

    def _owner_key(self, session_id: str) -> str:
        return f"vaxgate:{self.channel}:{{{_opened_tag(session_id)}}}:owner:{session_id}"

    def requests_counted(self, phone: str) -> int:
        """How many requests ``begin_step`` counted for the phone in its current rate window."""
        return int(self.client.get(f"vaxgate:{self.channel}:{{{phone}}}:rate") or 0)

    def load(self, session_id: str, phone: str) -> Record | None:
        """The record of this phone's session, or None if unknown or expired."""
        return _decode(self.client.get(self._key(phone, session_id)))

    def begin_step(self, session_id: str, phone: str, rate_limit: int = 0,
                   rate_window: int = 60, wait: float = 2.0) -> Step:
        """Count the phone's request, lock the session and load its record: one round trip.

        Waits up to ``wait`` seconds while another request of the same session holds the
        lock (an aggregator retry racing the original).
        """
        token = f"{random.getrandbits(64):016x}"  # unique per holder; no secret (no syscall)
        key = self._key(phone, session_id)
        keys = [f"vaxgate:{self.channel}:{{{phone}}}:rate", f"{key}:lock", key,
                self._resume_key(phone)]
        deadline = time.monotonic() + wait
        while True:
            reply = self._begin(keys=keys, args=[rate_limit, rate_window, token, LOCK_MS])
            status = reply[0].decode()
            if status != "busy" or time.monotonic() > deadline:
                raw = [*reply[1:3], None, None]
                if status == "ok" and not raw[0]:
                    self._claim(session_id, phone)
                return Step(status, _decode(raw[0]), token, _decode(raw[1]))
            rate_limit = 0  # this request was counted already
            time.sleep(0.05)

    def _claim(self, session_id: str, phone: str) -> None:
        """Note which phone opened ``session_id`` and count the session as opened; count a
        request from another phone."""
        tag = _opened_tag(session_id)
        counter = _opened_key(self.channel, tag, int(time.time()) // OPENED_BUCKET_S)
        if not self._claim_script(keys=[self._owner_key(session_id), counter],
                                  args=[phone, self.ttl, OPENED_KEEP_S]):
            SESSION_PHONE_MISMATCH.labels(self.channel).inc()

    def end_step(self, session_id: str, step: Step, phone: str, record: Record | None,
                 resumable: bool) -> None:
        """Save the record (if any), keep or drop the phone's resume copy and release the
        lock: one round trip, one command, keys of the phone's hash tag only."""
        payload = json.dumps(record, separators=(",", ":")) if record is not None else ""
        key = self._key(phone, session_id)
        keep = self.resume_window if resumable else 0
        self._end(keys=[key, self._resume_key(phone), f"{key}:lock"],
                  args=[payload, self.ttl, keep, step.token])


def opened_since(client: redis.Redis, channel: str, since: dt.datetime,
                 now: dt.datetime | None = None) -> int:
    """Sessions of ``channel`` opened since ``since`` (at most two days back; to the
    ``OPENED_BUCKET_S`` bucket): for reports, never on a step."""
    top = int((now or dt.datetime.now(dt.UTC)).timestamp()) // OPENED_BUCKET_S
    first = max(int(since.timestamp()) // OPENED_BUCKET_S, top - OPENED_KEEP_S // OPENED_BUCKET_S)
    pipe = client.pipeline(transaction=False)  # GETs, not MGET: the keys' slots differ
    for bucket in range(first, top + 1):
        for shard in range(OPENED_SHARDS):
            pipe.get(_opened_key(channel, f"o{shard}", bucket))
    return sum(int(v) for v in pipe.execute() if v)


def _opened_tag(session_id: str) -> str:
    return f"o{zlib.crc32(session_id.encode()) % OPENED_SHARDS}"


def _opened_key(channel: str, tag: str, bucket: int) -> str:
    return f"vaxgate:{channel}:{{{tag}}}:opened:{bucket}"


def _decode(raw: bytes | None) -> Record | None:
    """A stored record (Lua's false and redis-py's None both mean none)."""
    return json.loads(raw) if raw else None
