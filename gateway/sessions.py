"""Session records in Redis for the USSD and IVR channels, and redial-to-resume.

A record is plain JSON: the engine state plus what the channel adapter needs (for USSD the
input history already consumed and the page shown). Records expire on their own; a phone's
last unfinished record is remembered for ``resume_window`` seconds so a dropped session
can be continued on redial.
"""
from __future__ import annotations

import json
import secrets
import time
from dataclasses import dataclass
from typing import Any

import redis

Record = dict[str, Any]

# One round trip to open a step. KEYS: rate counter, lock, session.
# ARGV: rate limit (0 = none), rate window s, lock token, lock ms.
_BEGIN_STEP = """
if tonumber(ARGV[1]) > 0 then
  local n = redis.call('INCR', KEYS[1])
  if n == 1 then redis.call('EXPIRE', KEYS[1], ARGV[2]) end
  if n > tonumber(ARGV[1]) then return {'limited'} end
end
if not redis.call('SET', KEYS[2], ARGV[3], 'NX', 'PX', ARGV[4]) then return {'busy'} end
return {'ok', redis.call('GET', KEYS[3])}
"""
# Release a lock only if we still hold it. KEYS: lock. ARGV: token.
_RELEASE = ("if redis.call('GET', KEYS[1]) == ARGV[1] then "
            "return redis.call('DEL', KEYS[1]) end return 0")
LOCK_MS = 5000


@dataclass
class Step:
    """An opened step: ``status`` is ok, limited (rate limit hit) or busy (lock held)."""

    status: str
    record: Record | None = None
    token: str = ""


class SessionStore:
    """Load and save per-session records, and the per-phone resume pointer."""

    def __init__(self, client: redis.Redis, channel: str, ttl: int, resume_window: int):
        self.client = client
        self.channel = channel
        self.ttl = ttl
        self.resume_window = resume_window
        self._begin = client.register_script(_BEGIN_STEP)  # no round trip until first call

    def _key(self, session_id: str) -> str:
        return f"vaxgate:{self.channel}:session:{session_id}"

    def _resume_key(self, phone: str) -> str:
        return f"vaxgate:{self.channel}:resume:{phone}"

    def load(self, session_id: str) -> Record | None:
        """The record of this session, or None if unknown or expired."""
        raw = self.client.get(self._key(session_id))
        return json.loads(raw) if raw else None

    def save(self, session_id: str, record: Record, phone: str, resumable: bool) -> None:
        """Store the record; remember (or forget) it as the phone's resumable session."""
        with self.client.pipeline(transaction=True) as pipe:
            self._save_into(pipe, session_id, record, phone, resumable)
            pipe.execute()

    def _save_into(self, pipe, session_id: str, record: Record, phone: str,
                   resumable: bool) -> None:
        payload = json.dumps(record, separators=(",", ":"))
        pipe.set(self._key(session_id), payload, ex=self.ttl)
        if resumable and self.resume_window:
            pipe.set(self._resume_key(phone), payload, ex=self.resume_window)
        else:
            pipe.delete(self._resume_key(phone))

    def take_resumable(self, phone: str) -> Record | None:
        """The phone's unfinished record from an earlier session, removed once taken."""
        with self.client.pipeline(transaction=True) as pipe:
            pipe.get(self._resume_key(phone))
            pipe.delete(self._resume_key(phone))
            raw, _ = pipe.execute()
        return json.loads(raw) if raw else None

    def begin_step(self, session_id: str, phone: str, rate_limit: int = 0,
                   rate_window: int = 60, wait: float = 2.0) -> Step:
        """Count the phone's request, lock the session and load its record: one round trip.

        Waits up to ``wait`` seconds while another request of the same session holds the
        lock (an aggregator retry racing the original).
        """
        token = secrets.token_hex(8)
        keys = [f"vaxgate:{self.channel}:rate:{phone}", f"{self._key(session_id)}:lock",
                self._key(session_id)]
        deadline = time.monotonic() + wait
        while True:
            reply = self._begin(keys=keys, args=[rate_limit, rate_window, token, LOCK_MS])
            status = reply[0].decode()
            if status != "busy" or time.monotonic() > deadline:
                raw = reply[1] if len(reply) > 1 else None
                return Step(status, json.loads(raw) if raw else None, token)
            rate_limit = 0  # this request was counted already
            time.sleep(0.05)

    def end_step(self, session_id: str, step: Step, phone: str, record: Record | None,
                 resumable: bool, also=None) -> None:
        """Save the record (if any), keep or drop the resume copy, run ``also(pipe)``, and
        release the lock: one round trip."""
        with self.client.pipeline(transaction=True) as pipe:
            if record is not None:
                self._save_into(pipe, session_id, record, phone, resumable)
            if also:
                also(pipe)
            pipe.eval(_RELEASE, 1, f"{self._key(session_id)}:lock", step.token)
            pipe.execute()

    def lock(self, session_id: str, timeout: float = 5.0, wait: float = 2.0):
        """A short lock so two requests of one session are never applied at once."""
        return self.client.lock(f"{self._key(session_id)}:lock", timeout=timeout,
                                blocking_timeout=wait)
