"""Centers and slots as admins change them: validated input, district scope, capacity rules.

Used by the console and the JSON API alike. A district principal sees and changes only
its district's centers; anything outside is "not found". A center's state and district are
names from India Post's directory (gateway/geo; an unknown one is refused with close
names), its PIN code lies in that district, and it stands at its PIN code's point unless
an admin gives one. Reducing a slot's capacity below what is booked is refused with the
numbers, by a conditional UPDATE (no race with booking).
"""
from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)
from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from gateway.geo import places
from gateway.storage import SQL_INTEGER_MAX, Center, Slot

from .auth import Principal

AGE_GROUPS = ("18-44", "45+")
MAX_BULK_SLOTS = 5000


class InventoryError(ValueError):
    """Bad input or a refused change; ``field`` names what was wrong, ``suggestions`` are
    close valid values (a misspelt district)."""

    def __init__(self, field: str, message: str, suggestions: list[str] | None = None):
        super().__init__(f"{field}: {message}")
        self.field, self.message = field, message
        self.suggestions = suggestions or []


class NotFound(LookupError):
    """No such record, or not in the principal's district."""


class CapacityBelowBooked(InventoryError):
    def __init__(self, capacity: int, booked: int):
        super().__init__("capacity", f"{capacity} is below the {booked} places already booked")
        self.capacity, self.booked = capacity, booked


FORMULA_START = ("=", "+", "-", "@")  # OWASP CSV injection: cells a spreadsheet evaluates


class _Input(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    @field_validator("*")
    @classmethod
    def _printable(cls, value: Any) -> Any:
        if isinstance(value, str) and not value.isprintable():
            raise ValueError("must not contain control characters")
        if isinstance(value, str) and value.startswith(FORMULA_START):
            raise ValueError("must not start with =, +, - or @ (a spreadsheet opening the "
                             "CSV export would run it as a formula)")
        return value


class CenterIn(_Input):
    code: str = Field(min_length=2, max_length=16, pattern=r"^[A-Za-z0-9_-]+$")
    name: str = Field(min_length=2, max_length=80)
    state: str = Field(min_length=2, max_length=40)
    district: str = Field(min_length=2, max_length=40)
    pincode: str = Field(pattern=r"^[1-9]\d{5}$")
    address: str = Field("", max_length=300)
    active: bool = True
    # where it stands, when its PIN code's point (the default) is too rough
    latitude: float | None = Field(None, ge=6.0, le=37.6)
    longitude: float | None = Field(None, ge=68.0, le=97.5)

    @model_validator(mode="after")
    def _both_or_neither(self) -> CenterIn:
        if (self.latitude is None) != (self.longitude is None):
            raise ValueError("latitude and longitude: give both or neither")
        return self


class SlotIn(_Input):
    date: dt.date
    start_time: dt.time
    end_time: dt.time
    age_group: str = Field(pattern=r"^(18-44|45\+)$")
    vaccine: str = Field("COVISHIELD", min_length=2, max_length=20)
    capacity: int = Field(ge=0, le=10000)

    @model_validator(mode="after")
    def _window(self) -> SlotIn:
        if self.end_time <= self.start_time:
            raise ValueError("end_time must be after start_time")
        return self


class BulkSlotsIn(_Input):
    date_from: dt.date
    date_to: dt.date
    windows: list[tuple[dt.time, dt.time]] = Field(min_length=1, max_length=12)
    age_groups: list[str] = Field(default_factory=lambda: list(AGE_GROUPS), min_length=1)
    vaccine: str = Field("COVISHIELD", min_length=2, max_length=20)
    capacity: int = Field(ge=1, le=10000)
    weekdays: list[int] = Field(default_factory=lambda: list(range(7)))  # 0 = Monday

    @model_validator(mode="after")
    def _ranges(self) -> BulkSlotsIn:
        if self.date_to < self.date_from:
            raise ValueError("date_to must not be before date_from")
        if (self.date_to - self.date_from).days > 366:
            raise ValueError("date range: at most one year at a time")
        if any(end <= start for start, end in self.windows):
            raise ValueError("windows: each end must be after its start")
        if set(self.age_groups) - set(AGE_GROUPS):
            raise ValueError(f"age_groups: each must be one of {', '.join(AGE_GROUPS)}")
        return self


def parse(schema: type[_Input], data: Any) -> Any:
    """``data`` as ``schema``, or InventoryError naming the first bad field."""
    try:
        return schema.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        field = ".".join(str(p) for p in err["loc"]) or "body"
        raise InventoryError(field, err["msg"].removeprefix("Value error, ")) from None


# ---- centers ---------------------------------------------------------------------------

def search_centers(session: Session, who: Principal, q: str = "", district: str = "",
                   include_inactive: bool = True, limit: int = 500) -> list[Center]:
    """Centers in the principal's scope matching ``q`` (code, name or PIN code)."""
    query = center_query(who, q, district, include_inactive)
    return list(session.scalars(query.order_by(Center.state, Center.district, Center.name)
                                .limit(limit)))


def center_query(who: Principal, q: str = "", district: str = "",
                 include_inactive: bool = True, state: str = ""):
    """A SELECT of the centers in the principal's scope matching ``q`` (code, name or PIN
    code), unordered."""
    query = select(Center).where(who.within(Center.state, Center.district))
    if district and district.isprintable():
        query = query.where(Center.district == district)
    if state and state.isprintable():
        query = query.where(Center.state == state)
    q = "".join(ch for ch in q if ch.isprintable()).strip()
    if q:
        like = f"%{q}%"
        query = query.where(or_(Center.name.ilike(like), Center.code.ilike(like),
                                Center.pincode.like(like)))
    if not include_inactive:
        query = query.where(Center.active.is_(True))
    return query


def valid_id(value: int) -> bool:
    """True for an id a SQL INTEGER column can hold (bigger ones cannot exist)."""
    return 0 < value <= SQL_INTEGER_MAX


def get_center(session: Session, who: Principal, center_id: int) -> Center:
    center = session.get(Center, center_id) if valid_id(center_id) else None
    if center is None or not who.sees(center.state, center.district):
        raise NotFound(f"center {center_id}")
    return center


def center_dict(center: Center) -> dict[str, Any]:
    return {"id": center.id, "code": center.code, "name": center.name, "state": center.state,
            "district": center.district, "pincode": center.pincode,
            "address": center.address, "active": center.active,
            "latitude": center.latitude, "longitude": center.longitude}


def center_form_values(session: Session, center: Center) -> dict[str, Any]:
    """``center_dict`` for the edit form: a point only when an admin gave one (the PIN
    code's point is left blank, so a new PIN code brings its own)."""
    values = center_dict(center)
    place = places.place_of(session, center.pincode)
    if place and (center.latitude, center.longitude) == place.point:
        values.update(latitude=None, longitude=None)
    return values


def save_center(session: Session, who: Principal, data: CenterIn,
                center: Center | None = None) -> Center:
    """Create (``center`` None) or update a center; a district user stays in their district."""
    values = {**data.model_dump(), **_located(session, data)}
    if not who.sees(values["state"], values["district"]):
        raise InventoryError("district", f"you can only manage centers in {who.place}")
    clash = session.scalar(select(Center.id).where(Center.code == data.code))
    if clash and (center is None or clash != center.id):
        raise InventoryError("code", f"{data.code} is already used by another center")
    center = center or Center()
    for key, value in values.items():
        setattr(center, key, value)
    session.add(center)
    session.flush()
    return center


def directory_district(session: Session, state: str, district: str) -> tuple[str, str]:
    """(state, district) as India Post's directory spells them; InventoryError naming the
    field, with close names, for one it does not have."""
    try:
        found_state, found = places.district_named(session, state, district)
    except places.UnknownPlace as exc:
        raise InventoryError(exc.field, str(exc), exc.suggestions) from None
    return found_state.name, found.name


def state_named(session: Session, state: str) -> str:
    """A state as the directory spells it; InventoryError with close names otherwise."""
    try:
        return places.state_named(session, state).name
    except places.UnknownPlace as exc:
        raise InventoryError(exc.field, str(exc), exc.suggestions) from None


def any_directory_district(session: Session, district: str) -> str:
    """A district of any state as the directory spells it; InventoryError with close names
    for one it does not have."""
    try:
        return places.any_district_named(session, district).name
    except places.UnknownPlace as exc:
        raise InventoryError(exc.field, str(exc), exc.suggestions) from None


def _located(session: Session, data: CenterIn) -> dict[str, Any]:
    """The center's state and district spelled as the directory does, and its point; its
    PIN code must lie in that district."""
    state, district = directory_district(session, data.state, data.district)
    if not places.lies_in(session, data.pincode, state, district):
        known = places.districts_of_pincode(session, data.pincode)
        where = f"is in {' / '.join(known)}" if known else "is not in India Post's directory"
        raise InventoryError("pincode", f"{data.pincode} {where}, not in {district}, {state}")
    point = {"latitude": data.latitude, "longitude": data.longitude}
    if data.latitude is None:
        place = places.place_of(session, data.pincode)
        point = {"latitude": place.latitude, "longitude": place.longitude}
    return {"state": state, "district": district, **point}


# ---- slots -----------------------------------------------------------------------------

def list_slots(session: Session, center: Center, date_from: dt.date | None = None,
               date_to: dt.date | None = None) -> list[Slot]:
    query = slot_query(center, date_from, date_to)
    return list(session.scalars(query.order_by(Slot.date, Slot.start_time, Slot.age_group)))


def slot_query(center: Center, date_from: dt.date | None = None,
               date_to: dt.date | None = None):
    """A SELECT of the center's slots between the dates, unordered."""
    query = select(Slot).where(Slot.center_id == center.id)
    if date_from:
        query = query.where(Slot.date >= date_from)
    if date_to:
        query = query.where(Slot.date <= date_to)
    return query


def get_slot(session: Session, who: Principal, slot_id: int) -> Slot:
    slot = session.get(Slot, slot_id) if valid_id(slot_id) else None
    if slot is None:
        raise NotFound(f"slot {slot_id}")
    get_center(session, who, slot.center_id)
    return slot


def slot_dict(slot: Slot) -> dict[str, Any]:
    return {"id": slot.id, "center_id": slot.center_id, "date": slot.date.isoformat(),
            "start_time": slot.start_time.strftime("%H:%M"),
            "end_time": slot.end_time.strftime("%H:%M"), "age_group": slot.age_group,
            "vaccine": slot.vaccine, "capacity": slot.capacity, "booked": slot.booked}


def add_slot(session: Session, center: Center, data: SlotIn) -> Slot:
    if _existing_slot(session, center.id, data.date, data.start_time, data.age_group):
        raise InventoryError("start_time", "a slot for this date, time and age group exists")
    slot = Slot(center_id=center.id, booked=0, **data.model_dump())
    session.add(slot)
    session.flush()
    return slot


def set_capacity(session: Session, slot: Slot, capacity: int) -> None:
    """Change a slot's capacity; CapacityBelowBooked (with the numbers) if too few places."""
    if capacity < 0:
        raise InventoryError("capacity", "must not be negative")
    done = session.execute(update(Slot).where(Slot.id == slot.id, Slot.booked <= capacity)
                           .values(capacity=capacity).execution_options(
                               synchronize_session=False))
    session.refresh(slot)
    if done.rowcount != 1:
        raise CapacityBelowBooked(capacity, slot.booked)


def bulk_create_slots(session: Session, center: Center, plan: BulkSlotsIn) -> dict[str, int]:
    """One slot per day x window x age group; existing ones are left alone and counted."""
    days = [plan.date_from + dt.timedelta(days=n)
            for n in range((plan.date_to - plan.date_from).days + 1)]
    wanted = [(day, start, end, group) for day in days if day.weekday() in plan.weekdays
              for start, end in plan.windows for group in plan.age_groups]
    if len(wanted) > MAX_BULK_SLOTS:
        raise InventoryError("date_to", f"{len(wanted)} slots at once; at most {MAX_BULK_SLOTS}")
    existing = {(s.date, s.start_time, s.age_group) for s in
                list_slots(session, center, plan.date_from, plan.date_to)}
    created = 0
    for day, start, end, group in wanted:
        if (day, start, group) in existing:
            continue
        session.add(Slot(center_id=center.id, date=day, start_time=start, end_time=end,
                         age_group=group, vaccine=plan.vaccine, capacity=plan.capacity,
                         booked=0))
        created += 1
    session.flush()
    return {"created": created, "skipped": len(wanted) - created}


def _existing_slot(session: Session, center_id: int, date: dt.date, start: dt.time,
                   group: str) -> Slot | None:
    return session.scalar(select(Slot).where(
        Slot.center_id == center_id, Slot.date == date, Slot.start_time == start,
        Slot.age_group == group))


def upsert_slot(session: Session, center: Center, data: SlotIn) -> str:
    """Create the slot, or set the capacity of the existing one: "created" or "updated"."""
    slot = _existing_slot(session, center.id, data.date, data.start_time, data.age_group)
    if slot is None:
        add_slot(session, center, data)
        return "created"
    set_capacity(session, slot, data.capacity)
    return "updated"
