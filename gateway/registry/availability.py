"""A few seconds of caching for "which slots are free near this pincode?".

On the day everyone dials at once, thousands of callers ask the same question within
seconds. The answer is cached in Redis per (postal circle, age group, dates) for
``ttl_seconds``. A booking that takes a slot's last place, a reschedule, a cancellation and
a "that time just filled up" bump the circle's version, so the next caller there reads
fresh rows: no list keeps offering a full slot. Other bookings leave the entry alone, so the
number of places shown beside a window may be a few too high for up to ``ttl_seconds`` —
on a rush day every booking would otherwise empty the cache of its whole circle, and
nearly every search would miss.

A stale answer can only show a place that has just gone; it can never let a booking
exceed capacity, because booking takes the place with a conditional UPDATE on the slot row
(gateway/registry/appointments.py) and a full slot answers "that time just filled up".
"""
from __future__ import annotations

import datetime as dt
import functools
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

    def __init__(self, client: redis.Redis, ttl_seconds: float = 5.0,
                 districts_ttl_seconds: float = 60.0):
        self.client = client
        self.ttl_ms = int(ttl_seconds * 1000)
        self.districts_ttl_ms = int(districts_ttl_seconds * 1000)

    def free_slots(self, session: Session, pincode: str, age_group: str,
                   dates: list[dt.date]) -> list[FreeSlot]:
        """The cached answer, or the database's (then cached). Redis trouble skips the cache."""
        return self.search(session, pincode, age_group, dates)[0]

    def search(self, session: Session, pincode: str, age_group: str, dates: list[dt.date],
               districts: bool = False) -> tuple[list[FreeSlot], set[str]]:
        """(free slots, and with ``districts`` the districts of ``pincode``), cached.

        One round trip on a hit: the circle's version, the entry and the districts come in
        one MGET, and an entry counts only if it was made at the current version. The
        districts of a pincode change only when an admin adds or moves a center, so they are
        kept for ``districts_ttl_seconds`` whatever the bookings do."""
        keys = self._keys(pincode, age_group, dates)
        if districts:
            keys.append(f"{PREFIX}districts:{pincode}")
        try:
            version, cached, *home = self.client.mget(keys)
        except redis.RedisError as exc:
            log.warning("availability cache unavailable: %s", exc)
            return (centers.free_slots_in_circle(session, pincode, age_group, dates),
                    centers.districts_of_pincode(session, pincode) if districts else set())
        writes: dict[str, tuple[bytes, int]] = {}
        version = version or b"0"
        made_at, _, rows = (cached or b"").partition(b"|")
        if cached is not None and made_at == version:
            slots = list(_decode_rows(rows))
        else:
            slots = centers.free_slots_in_circle(session, pincode, age_group, dates)
            payload = json.dumps([_encode(s) for s in slots]).encode()
            writes[keys[1]] = (version + b"|" + payload, self.ttl_ms)
        found: set[str] = set()
        if districts and home[0] is not None:
            found = set(json.loads(home[0]))
        elif districts:
            found = centers.districts_of_pincode(session, pincode)
            writes[keys[2]] = (json.dumps(sorted(found)).encode(), self.districts_ttl_ms)
        if writes:
            self._store(writes)
        return slots, found

    def _store(self, writes: dict[str, tuple[bytes, int]]) -> None:
        try:
            pipe = self.client.pipeline(transaction=False)
            for key, (value, ttl_ms) in writes.items():
                pipe.set(key, value, px=ttl_ms)
            pipe.execute()
        except redis.RedisError:
            pass

    def invalidate(self, pincode: str) -> None:
        """A slot of this pincode's circle filled up or got places back: drop cached
        answers for the circle."""
        try:
            self.client.incr(f"{PREFIX}version:{pincode[:2]}")
        except redis.RedisError as exc:  # entries expire within ttl_seconds anyway
            log.warning("could not invalidate availability cache: %s", exc)

    @staticmethod
    def _keys(pincode: str, age_group: str, dates: list[dt.date]) -> list[str]:
        """[the circle's version counter, the entry] for this question."""
        circle = pincode[:2]
        span = ",".join(d.isoformat() for d in dates)
        return [f"{PREFIX}version:{circle}", f"{PREFIX}{circle}:{age_group}:{span}"]


def _encode(slot: FreeSlot) -> list:
    return [slot.slot_id, slot.center_id, slot.center_name, slot.district, slot.pincode,
            slot.date.isoformat(), slot.start_time.isoformat(), slot.end_time.isoformat(),
            slot.free]


@functools.lru_cache(maxsize=256)
def _decode_rows(rows: bytes) -> tuple[FreeSlot, ...]:
    """A cached entry's slots. Every step of a rush reads the same few entries (a circle's
    list for an age group, for ``ttl_seconds``), so a process decodes each once rather than
    on every list step. FreeSlot is frozen: safe to share."""
    return tuple(_decode(row) for row in json.loads(rows))


def _decode(row: list) -> FreeSlot:
    slot_id, center_id, name, district, pincode, date, start, end, free = row
    return FreeSlot(slot_id, center_id, name, district, pincode, dt.date.fromisoformat(date),
                    dt.time.fromisoformat(start), dt.time.fromisoformat(end), free)
