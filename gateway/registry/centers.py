"""Finding centers with free places: by pincode, then the district, then nearby pincodes.

Indian pincodes are hierarchical: the first digit is the postal zone, the first two the
postal circle (roughly a state) and the first three the sorting district. We search one
postal circle at a time and rank inside it:

1. ``pincode`` — centers in the caller's own pincode;
2. ``district`` — centers in the same revenue district (known from a center that shares the
   pincode, else from centers in the same sorting district, the first three digits);
3. ``nearby`` — the centers with the numerically nearest pincodes in the circle.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.storage import Center, Slot

NEARBY_LIMIT = 8


@dataclass(frozen=True)
class FreeSlot:
    """One bookable slot, flattened with its center for ranking and display."""

    slot_id: int
    center_id: int
    center_name: str
    district: str
    pincode: str
    date: dt.date
    start_time: dt.time
    end_time: dt.time
    free: int


def free_slots_in_circle(session: Session, pincode: str, age_group: str,
                         dates: list[dt.date]) -> list[FreeSlot]:
    """Every slot with a free place in the pincode's postal circle on the given dates."""
    rows = session.execute(
        select(Slot.id, Center.id, Center.name, Center.district, Center.pincode, Slot.date,
               Slot.start_time, Slot.end_time, Slot.capacity - Slot.booked)
        .join(Center, Slot.center_id == Center.id)
        .where(Center.active.is_(True), Center.pincode.startswith(pincode[:2]),
               Slot.age_group == age_group, Slot.date.in_(dates),
               Slot.booked < Slot.capacity)
        .order_by(Slot.date, Center.name, Slot.start_time))
    return [FreeSlot(*row) for row in rows]


def rank_centers(slots: list[FreeSlot], pincode: str,
                 home_districts: set[str]) -> tuple[str, list[FreeSlot]]:
    """Pick the search scope for ``pincode`` and return (scope, one FreeSlot per center).

    Pure: works on what ``free_slots_in_circle`` returned and the caller's districts
    (``home_districts``). Scope is 'pincode', 'district', 'nearby', or 'none'.
    """
    by_center: dict[int, FreeSlot] = {}
    for slot in slots:
        by_center.setdefault(slot.center_id, slot)
    centers = list(by_center.values())
    same_pin = [c for c in centers if c.pincode == pincode]
    if same_pin:
        return "pincode", same_pin
    in_district = [c for c in centers if c.district in home_districts]
    if in_district:
        return "district", in_district
    nearby = sorted(centers, key=lambda c: (abs(int(c.pincode) - int(pincode)), c.center_name))
    return ("nearby", nearby[:NEARBY_LIMIT]) if nearby else ("none", [])


def districts_of_pincode(session: Session, pincode: str) -> set[str]:
    """Districts of the centers with this pincode, else of those in its sorting district."""
    for prefix in (pincode, pincode[:3]):
        found = set(session.scalars(select(Center.district).distinct()
                                    .where(Center.pincode.startswith(prefix))))
        if found:
            return found
    return set()
