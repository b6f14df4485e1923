"""Finding centers with free places near a home PIN code.

The order a caller sees (``rank``), each center with its distance from home:

1. ``pincode`` — centers at the home PIN code;
2. ``district`` — the rest of the home's district (India Post's district of the PIN code);
3. ``near`` — other centers within ``booking.near_km`` of home, nearest first.

With none of those, ``nearest_free_slots`` finds the ``booking.far_centers`` nearest
centers anywhere (``rank_far``), and the menu says that none is near. Distances are between
points of gateway/geo: a PIN code's, or one an admin gave the center, stored on the center.

A search reads the free slots of the home's district and of the one-degree cells that a
circle of ``near_km`` around home touches: cells and districts are the pieces the
availability cache keeps (gateway/registry/availability.py). Every center has a point
(its PIN code's, set when it is saved and by the migration); one whose PIN code is not in
the directory is found through its district only.
"""
from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, exists, or_, select
from sqlalchemy.orm import Session

from gateway.geo.distance import Point, bounding_box, km_between
from gateway.geo.places import Place
from gateway.storage import Center, Slot

Cell = tuple[int, int]
SCOPES = ("pincode", "district", "near", "far")


@dataclass(frozen=True)
class FreeSlot:
    """One bookable slot, flattened with its center for ranking and display."""

    slot_id: int
    center_id: int
    center_name: str
    state: str
    district: str
    pincode: str
    latitude: float | None
    longitude: float | None
    date: dt.date
    start_time: dt.time
    end_time: dt.time
    free: int

    @property
    def point(self) -> Point | None:
        return None if self.latitude is None else (self.latitude, self.longitude)


@dataclass(frozen=True)
class Ranked:
    """A center in a caller's list: its first free slot, its distance and why it is there."""

    slot: FreeSlot
    km: float | None
    scope: str


@dataclass(frozen=True)
class Area:
    """Where a center is, as cached answers are kept: its district and its cell."""

    state: str
    district: str
    cell: Cell | None


def cell_of(point: Point) -> Cell:
    """The one-degree cell (south-west corner) that holds ``point``."""
    return math.floor(point[0]), math.floor(point[1])


def cells_near(point: Point, radius_km: float) -> list[Cell]:
    """Every cell that a circle of ``radius_km`` around ``point`` touches."""
    (south, west), (north, east) = bounding_box(point, radius_km)
    return [(lat, lon) for lat in range(math.floor(south), math.floor(north) + 1)
            for lon in range(math.floor(west), math.floor(east) + 1)]


def area_of(center: Any) -> Area:
    """The area of a center (anything with state, district, latitude, longitude)."""
    point = None if center.latitude is None else (center.latitude, center.longitude)
    return Area(center.state, center.district, cell_of(point) if point else None)


_COLUMNS = (Slot.id, Center.id, Center.name, Center.state, Center.district, Center.pincode,
            Center.latitude, Center.longitude, Slot.date, Slot.start_time, Slot.end_time,
            Slot.capacity - Slot.booked)


def _free(session: Session, where, age_group: str, dates: list[dt.date]) -> list[FreeSlot]:
    rows = session.execute(
        select(*_COLUMNS).join(Center, Slot.center_id == Center.id)
        .where(Center.active.is_(True), where, Slot.age_group == age_group,
               Slot.date.in_(dates), Slot.booked < Slot.capacity)
        .order_by(Slot.date, Center.name, Slot.start_time))
    return [FreeSlot(*row) for row in rows]


def _in_cell(cell: Cell):
    lat, lon = cell
    return and_(Center.latitude >= lat, Center.latitude < lat + 1,
                Center.longitude >= lon, Center.longitude < lon + 1)


def free_slots_in_pieces(session: Session, district: tuple[str, str] | None,
                         cells: list[Cell], age_group: str,
                         dates: list[dt.date]) -> tuple[list[FreeSlot], dict[Cell, list]]:
    """Free slots of a (state, district) and of cells, in one query: (the district's,
    {cell: the cell's})."""
    where = [_in_cell(cell) for cell in cells]
    if district:
        where.append(and_(Center.state == district[0], Center.district == district[1]))
    found = _free(session, or_(*where), age_group, dates) if where else []
    by_cell: dict[Cell, list[FreeSlot]] = {cell: [] for cell in cells}
    for slot in found:
        if slot.point and cell_of(slot.point) in by_cell:
            by_cell[cell_of(slot.point)].append(slot)
    in_district = [s for s in found if district and (s.state, s.district) == district]
    return in_district, by_cell


def free_slots_at(session: Session, pincode: str, age_group: str,
                  dates: list[dt.date]) -> list[FreeSlot]:
    """Free slots of the centers at one PIN code (a home the directory cannot place)."""
    return _free(session, Center.pincode == pincode, age_group, dates)


def free_slots_near(session: Session, home: Place, age_group: str, dates: list[dt.date],
                    near_km: float) -> list[FreeSlot]:
    """Free slots of the home's district and of the cells within ``near_km`` (uncached)."""
    in_district, by_cell = free_slots_in_pieces(session, (home.state, home.district),
                                                cells_near(home.point, near_km), age_group,
                                                dates)
    return merge([in_district, *by_cell.values()])


def merge(pieces: list[list[FreeSlot]]) -> list[FreeSlot]:
    """The slots of every piece once each, by date, center name and time."""
    by_id = {slot.slot_id: slot for piece in pieces for slot in piece}
    return sorted(by_id.values(), key=lambda s: (s.date, s.center_name, s.start_time))


def nearest_free_slots(session: Session, home: Place, age_group: str, dates: list[dt.date],
                       count: int) -> list[FreeSlot]:
    """Free slots of the ``count`` centers nearest to home that have any, wherever they are."""
    has_free = exists().where(Slot.center_id == Center.id, Slot.age_group == age_group,
                              Slot.date.in_(dates), Slot.booked < Slot.capacity)
    lat, lon = home.point
    squeeze = math.cos(math.radians(lat))  # a degree of longitude is shorter than one of latitude
    dlat, dlon = Center.latitude - lat, (Center.longitude - lon) * squeeze
    planar = dlat * dlat + dlon * dlon
    nearest = session.scalars(
        select(Center.id).where(Center.active.is_(True), Center.latitude.is_not(None),
                                has_free).order_by(planar, Center.id).limit(count)).all()
    return _free(session, Center.id.in_(nearest), age_group, dates) if nearest else []


def _distance(home: Place | None, slot: FreeSlot) -> float | None:
    point = slot.point
    return km_between(home.point, point) if home and point else None


def _first_per_center(slots: list[FreeSlot]) -> list[FreeSlot]:
    by_center: dict[int, FreeSlot] = {}
    for slot in slots:
        by_center.setdefault(slot.center_id, slot)
    return list(by_center.values())


def _scope(slot: FreeSlot, home: Place | None, pincode: str, km: float | None,
           near_km: float) -> str | None:
    if slot.pincode == pincode:
        return "pincode"
    if home and slot.district.casefold() == home.district.casefold() and \
            slot.state.casefold() == home.state.casefold():
        return "district"
    return "near" if km is not None and km <= near_km else None


def rank(slots: list[FreeSlot], home: Place | None, pincode: str,
         near_km: float) -> list[Ranked]:
    """One entry per center at the home PIN code, in its district or within ``near_km``:
    in that order, nearest first within each. Pure."""
    ranked = []
    for slot in _first_per_center(slots):
        km = _distance(home, slot)
        scope = _scope(slot, home, pincode, km, near_km)
        if scope:
            ranked.append(Ranked(slot, km, scope))
    return sorted(ranked, key=lambda r: (SCOPES.index(r.scope), r.km or 0.0,
                                         r.slot.center_name))


def rank_far(slots: list[FreeSlot], home: Place | None, count: int) -> list[Ranked]:
    """The ``count`` centers of ``slots`` nearest to home, nearest first. Pure."""
    ranked = [Ranked(slot, _distance(home, slot), "far") for slot in _first_per_center(slots)]
    ranked.sort(key=lambda r: (r.km is None, r.km or 0.0, r.slot.center_name))
    return ranked[:count]
