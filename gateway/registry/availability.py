"""A few seconds of caching for "which slots are free near this home?".

On the day everyone dials at once, thousands of callers ask the same question within
seconds. A search (gateway/registry/centers.py) reads the free slots of the home's district
and of the one-degree cells around home, and those pieces are cached in Redis per (piece,
age group, dates) for ``ttl_seconds``, shared by every home nearby. A booking that takes a
slot's last place, a reschedule, a cancellation and a "that time just filled up" bump the
versions of the center's district and cell, so the next caller there reads fresh rows: no
list keeps offering a full slot. Other bookings leave the entries alone, so the number of
places shown beside a window may be a few too high for up to ``ttl_seconds`` — on a rush
day every booking would otherwise empty the cache of its whole area, and nearly every
search would miss. The rare "nothing near: the nearest centers anywhere" answer is cached
per home PIN code for ``ttl_seconds`` without versions.

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

from gateway.geo.places import Place
from gateway.registry import centers
from gateway.registry.centers import Area, Cell, FreeSlot

log = logging.getLogger(__name__)
PREFIX = "vaxgate:avail:"


class AvailabilityCache:
    """Free slots per district and per cell, shared by all web workers through Redis."""

    def __init__(self, client: redis.Redis, ttl_seconds: float = 5.0):
        self.client = client
        self.ttl_ms = int(ttl_seconds * 1000)

    def near(self, session: Session, home: Place, age_group: str, dates: list[dt.date],
             near_km: float) -> list[FreeSlot]:
        """Free slots of the home's district and of the cells within ``near_km``: cached
        pieces, or the database's (then cached). Redis trouble skips the cache.

        One round trip on a hit: every piece's version and entry come in one MGET (on a
        Redis Cluster, one per node: a piece's keys share its hash tag), and an entry counts
        only if it was made at its piece's current version."""
        district, cells = (home.state, home.district), centers.cells_near(home.point, near_km)
        pieces = [_district_piece(*district), *map(_cell_piece, cells)]
        span = f"{age_group}:{','.join(d.isoformat() for d in dates)}"
        keys = [_version_key(p) for p in pieces] + [f"{PREFIX}{{{p}}}:{span}" for p in pieces]
        try:
            found = self._mget(keys)
        except redis.RedisError as exc:
            log.warning("availability cache unavailable: %s", exc)
            return centers.free_slots_near(session, home, age_group, dates, near_km)
        versions = [version or b"0" for version in found[:len(pieces)]]
        entries = found[len(pieces):]
        stale = [n for n, entry in enumerate(entries)
                 if entry is None or entry.partition(b"|")[0] != versions[n]]
        if stale:  # every stale piece in one query
            in_district, by_cell = centers.free_slots_in_pieces(
                session, district if 0 in stale else None,
                [cells[n - 1] for n in stale if n], age_group, dates)
            writes = {}
            for n in stale:
                slots = in_district if n == 0 else by_cell[cells[n - 1]]
                rows = json.dumps([_encode(s) for s in slots]).encode()
                entries[n] = writes[keys[len(pieces) + n]] = versions[n] + b"|" + rows
            self._store(writes)
        return list(_merged(tuple(entries)))

    def nearest(self, session: Session, home: Place, age_group: str, dates: list[dt.date],
                count: int) -> list[FreeSlot]:
        """Free slots of the ``count`` nearest centers anywhere, cached per home PIN code."""
        key = (f"{PREFIX}far:{home.pincode}:{count}:{age_group}:"
               f"{','.join(d.isoformat() for d in dates)}")
        try:
            cached = self.client.get(key)
        except redis.RedisError as exc:
            log.warning("availability cache unavailable: %s", exc)
            cached = None
        if cached is not None:
            return list(_decode_rows(cached))
        slots = centers.nearest_free_slots(session, home, age_group, dates, count)
        self._store({key: json.dumps([_encode(s) for s in slots]).encode()})
        return slots

    def _mget(self, keys: list[str]) -> list[bytes | None]:
        """MGET, split by slot on a Redis Cluster (redis-py's ``mget_nonatomic``)."""
        split = getattr(self.client, "mget_nonatomic", None)
        return split(keys) if split is not None else self.client.mget(keys)

    def _store(self, writes: dict[str, bytes]) -> None:
        if not writes:
            return
        try:
            pipe = self.client.pipeline(transaction=False)
            for key, value in writes.items():
                pipe.set(key, value, px=self.ttl_ms)
            pipe.execute()
        except redis.RedisError:
            pass

    def invalidate(self, area: Area) -> None:
        """A slot of a center in ``area`` filled up or got places back: drop cached answers
        for its district and its cell."""
        pieces = [_district_piece(area.state, area.district)]
        pieces += [_cell_piece(area.cell)] if area.cell else []
        try:
            pipe = self.client.pipeline(transaction=False)
            for piece in pieces:
                pipe.incr(_version_key(piece))
            pipe.execute()
        except redis.RedisError as exc:  # entries expire within ttl_seconds anyway
            log.warning("could not invalidate availability cache: %s", exc)


def _version_key(piece: str) -> str:
    return f"{PREFIX}{{{piece}}}:version"


def _district_piece(state: str, district: str) -> str:
    return f"district:{state.casefold()}|{district.casefold()}"


def _cell_piece(cell: Cell) -> str:
    return f"cell:{cell[0]}:{cell[1]}"


def _encode(slot: FreeSlot) -> list:
    return [slot.slot_id, slot.center_id, slot.center_name, slot.state, slot.district,
            slot.pincode, slot.latitude, slot.longitude, slot.date.isoformat(),
            slot.start_time.isoformat(), slot.end_time.isoformat(), slot.free]


@functools.lru_cache(maxsize=256)
def _merged(entries: tuple[bytes, ...]) -> tuple[FreeSlot, ...]:
    """The slots of a search's cached pieces, once each and in order. Every caller near the
    same home during ``ttl_seconds`` reads the same entries: a process merges them once."""
    return tuple(centers.merge([_decode_rows(e.partition(b"|")[2]) for e in entries]))


@functools.lru_cache(maxsize=256)
def _decode_rows(rows: bytes) -> tuple[FreeSlot, ...]:
    """A cached entry's slots. Every step of a rush reads the same few entries (an area's
    list for an age group, for ``ttl_seconds``), so a process decodes each once rather than
    on every list step. FreeSlot is frozen: safe to share."""
    return tuple(_decode(row) for row in json.loads(rows))


def _decode(row: list) -> FreeSlot:
    (slot_id, center_id, name, state, district, pincode, lat, lon, date, start, end,
     free) = row
    return FreeSlot(slot_id, center_id, name, state, district, pincode, lat, lon,
                    dt.date.fromisoformat(date), dt.time.fromisoformat(start),
                    dt.time.fromisoformat(end), free)
