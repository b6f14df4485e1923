"""A few seconds of caching for "which slots are free near this pincode?".

On the day everyone dials at once, thousands of callers ask the same question within
seconds. The answer is cached in Redis per (postal circle, age group, dates) for
``ttl_seconds``, and every booking or cancellation in a circle bumps that circle's version,
so the next caller there reads fresh rows.

A stale answer can only show a place that has just gone; it can never let a booking
exceed capacity, because booking takes the place with a conditional UPDATE on the slot row
(gateway/registry/appointments.py) and a full slot answers "that time just filled up".
"""
from __future__ import annotations

import datetime as dt
import json
import logging

import redis
from sqlalchemy.orm import Session

from gateway.registry import centers
from gateway.registry.centers import FreeSlot

log = logging.getLogger(__name__)
PREFIX = "vaxgate:avail:"


class AvailabilityCache:
    """Free slots per postal circle, shared by all web workers through Redis."""

    def __init__(self, client: redis.Redis, ttl_seconds: float = 5.0):
        self.client = client
        self.ttl_ms = int(ttl_seconds * 1000)

    def free_slots(self, session: Session, pincode: str, age_group: str,
                   dates: list[dt.date]) -> list[FreeSlot]:
        """The cached answer, or the database's (then cached). Redis trouble skips the cache.

        One round trip on a hit: the circle's version and the entry come in one MGET, and
        an entry counts only if it was made at the current version."""
        version_key, key = self._keys(pincode, age_group, dates)
        try:
            version, cached = self.client.mget(version_key, key)
        except redis.RedisError as exc:
            log.warning("availability cache unavailable: %s", exc)
            return centers.free_slots_in_circle(session, pincode, age_group, dates)
        version = version or b"0"
        if cached is not None:
            made_at, _, rows = cached.partition(b"|")
            if made_at == version:
                return [_decode(row) for row in json.loads(rows)]
        slots = centers.free_slots_in_circle(session, pincode, age_group, dates)
        try:
            payload = version + b"|" + json.dumps([_encode(s) for s in slots]).encode()
            self.client.set(key, payload, px=self.ttl_ms)
        except redis.RedisError:
            pass
        return slots

    def invalidate(self, pincode: str) -> None:
        """A place was taken or given back in this pincode's circle: drop cached answers."""
        try:
            self.client.incr(f"{PREFIX}version:{pincode[:2]}")
        except redis.RedisError as exc:  # entries expire within ttl_seconds anyway
            log.warning("could not invalidate availability cache: %s", exc)

    @staticmethod
    def _keys(pincode: str, age_group: str, dates: list[dt.date]) -> tuple[str, str]:
        """(the circle's version counter, the entry) for this question."""
        circle = pincode[:2]
        span = ",".join(d.isoformat() for d in dates)
        return f"{PREFIX}version:{circle}", f"{PREFIX}{circle}:{age_group}:{span}"


def _encode(slot: FreeSlot) -> list:
    return [slot.slot_id, slot.center_id, slot.center_name, slot.district, slot.pincode,
            slot.date.isoformat(), slot.start_time.isoformat(), slot.end_time.isoformat(),
            slot.free]


def _decode(row: list) -> FreeSlot:
    slot_id, center_id, name, district, pincode, date, start, end, free = row
    return FreeSlot(slot_id, center_id, name, district, pincode, dt.date.fromisoformat(date),
                    dt.time.fromisoformat(start), dt.time.fromisoformat(end), free)
