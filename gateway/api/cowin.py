"""Co-WIN's public appointment API shapes, built from our centers and slots.

In Co-WIN a *session* is a center's places on one date for one age limit and vaccine, with
its time *slots*; ours are the slot rows of that center, date, age group and vaccine taken
together: ``available_capacity`` is their free places, ``from``/``to`` the first start and
the last end, ``slots`` their windows. Vaccination is free at every center (``fee_type``).
No personal data: centers and counts only.
"""
from __future__ import annotations

import datetime as dt
from itertools import groupby
from typing import Any

from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from gateway.geo import places
from gateway.geo.models import GeoDistrict, GeoState
from gateway.storage import Center, Slot

CALENDAR_DAYS = 7
TTL_HOURS = 24  # Co-WIN's "ttl" of the location lists: they change rarely
MIN_AGE = {"18-44": 18, "45+": 45}
Body = dict[str, Any]


def states(session: Session) -> Body:
    """``{"states": [{"state_id", "state_name"}], "ttl"}``."""
    return {"states": [{"state_id": s.id, "state_name": s.name} for s in places.states(session)],
            "ttl": TTL_HOURS}


def districts(session: Session, state_id: int) -> Body | None:
    """``{"districts": [{"district_id", "district_name"}], "ttl"}``; None: no such state."""
    if session.get(GeoState, state_id) is None:
        return None
    return {"districts": [{"district_id": d.id, "district_name": d.name}
                          for d in places.districts(session, state_id)], "ttl": TTL_HOURS}


def by_pincode(pincode: str):
    """The centers at a PIN code."""
    return Center.pincode == pincode


def in_district(session: Session, district_id: int):
    """The centers of a district (by its directory id); matches none for an unknown id."""
    found = session.execute(select(GeoState.name, GeoDistrict.name)
                            .join(GeoDistrict, GeoDistrict.state_id == GeoState.id)
                            .where(GeoDistrict.id == district_id)).first()
    if found is None:
        return Center.id.is_(None)
    return and_(Center.state == found[0], Center.district == found[1])


def find_sessions(session: Session, where, day: dt.date) -> Body:
    """``{"sessions": [...]}``: every session on ``day`` at the centers ``where`` picks."""
    rows = _rows(session, where, [day])
    return {"sessions": [{**_center(center), **_session(center, day, slots)}
                         for (center, day, _, _), slots in _by_session(rows)]}


def calendar(session: Session, where, start: dt.date) -> Body:
    """``{"centers": [{..., "sessions": [...]}]}``: the seven days from ``start``."""
    days = [start + dt.timedelta(days=n) for n in range(CALENDAR_DAYS)]
    by_center: dict[int, Body] = {}
    for (center, day, _, _), slots in _by_session(_rows(session, where, days)):
        entry = by_center.setdefault(center.id, {**_center(center), "sessions": []})
        entry["sessions"].append(_session(center, day, slots))
    for entry in by_center.values():  # the center's hours over the week, as Co-WIN gave
        entry["from"] = min(s["from"] for s in entry["sessions"])
        entry["to"] = max(s["to"] for s in entry["sessions"])
    return {"centers": list(by_center.values())}


def _rows(session: Session, where, days: list[dt.date]) -> list[tuple[Center, Slot]]:
    return [(center, slot) for center, slot in session.execute(
        select(Center, Slot).join(Slot, Slot.center_id == Center.id)
        .where(Center.active.is_(True), where, Slot.date.in_(days))
        .order_by(Center.name, Center.id, Slot.date, Slot.age_group, Slot.vaccine,
                  Slot.start_time))]


def _by_session(rows: list[tuple[Center, Slot]]):
    key = lambda row: (row[0], row[1].date, row[1].age_group, row[1].vaccine)  # noqa: E731
    for found, group in groupby(rows, key=key):
        yield found, [slot for _, slot in group]


def _center(center: Center) -> Body:
    return {"center_id": center.id, "name": center.name, "address": center.address,
            "state_name": center.state, "district_name": center.district,
            "block_name": "", "pincode": int(center.pincode),
            "lat": center.latitude, "long": center.longitude,
            "fee_type": "Free"}


def _session(center: Center, day: dt.date, slots: list[Slot]) -> Body:
    first = slots[0]
    free = sum(max(s.capacity - s.booked, 0) for s in slots)
    return {"session_id": f"{center.id}-{day.isoformat()}-{first.age_group}-{first.vaccine}",
            "date": day.strftime("%d-%m-%Y"), "available_capacity": free,
            "min_age_limit": MIN_AGE.get(first.age_group, 18), "vaccine": first.vaccine,
            "from": min(s.start_time for s in slots).strftime("%H:%M:%S"),
            "to": max(s.end_time for s in slots).strftime("%H:%M:%S"),
            "fee": "0",
            "slots": [f"{s.start_time:%H:%M}-{s.end_time:%H:%M}" for s in slots]}
