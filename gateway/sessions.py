"""Session records in Redis for the USSD and IVR channels, and redial-to-resume.

A record is plain JSON: the engine state plus what the channel adapter needs (for USSD the
input history already consumed and the page shown). Records expire on their own; a phone's
last unfinished record is remembered for ``resume_window`` seconds so a dropped session
can be continued on redial.
"""
from __future__ import annotations

import json
from typing import Any

import redis

Record = dict[str, Any]


class SessionStore:
    """Load and save per-session records, and the per-phone resume pointer."""

    def __init__(self, client: redis.Redis, channel: str, ttl: int, resume_window: int):
        self.client = client
        self.channel = channel
        self.ttl = ttl
        self.resume_window = resume_window

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
        payload = json.dumps(record, separators=(",", ":"))
        with self.client.pipeline(transaction=True) as pipe:
            pipe.set(self._key(session_id), payload, ex=self.ttl)
            if resumable and self.resume_window:
                pipe.set(self._resume_key(phone), payload, ex=self.resume_window)
            else:
                pipe.delete(self._resume_key(phone))
            pipe.execute()

    def take_resumable(self, phone: str) -> Record | None:
        """The phone's unfinished record from an earlier session, removed once taken."""
        with self.client.pipeline(transaction=True) as pipe:
            pipe.get(self._resume_key(phone))
            pipe.delete(self._resume_key(phone))
            raw, _ = pipe.execute()
        return json.loads(raw) if raw else None

    def lock(self, session_id: str, timeout: float = 5.0, wait: float = 2.0):
        """A short lock so two requests of one session are never applied at once."""
        return self.client.lock(f"{self._key(session_id)}:lock", timeout=timeout,
                                blocking_timeout=wait)
