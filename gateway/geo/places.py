"""Questions the registry and the console ask the directory: where is this PIN code, does it
exist, which districts does a state have, is this district name one of them."""
from __future__ import annotations

import dataclasses
import difflib
from dataclasses import dataclass

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from gateway.geo.distance import Point, bounding_box
from gateway.geo.models import GeoDistrict, GeoPincode, GeoState

SUGGESTIONS = 5


@dataclass(frozen=True)
class Place:
    """Where a PIN code is: its primary district, state and point. ``exact`` is False for a
    PIN code missing from the directory, placed at its nearest-numbered neighbour's."""

    pincode: str
    locality: str
    district: str
    state: str
    district_id: int
    state_id: int
    latitude: float
    longitude: float
    exact: bool = True

    @property
    def point(self) -> Point:
        return self.latitude, self.longitude


class UnknownPlace(ValueError):
    """A state or district name the directory does not have; ``suggestions`` are close ones."""

    def __init__(self, field: str, name: str, suggestions: list[str]):
        hint = f" (did you mean {', '.join(suggestions)}?)" if suggestions else ""
        super().__init__(f"{name!r} is not a {field} in India Post's directory{hint}")
        self.field, self.name, self.suggestions = field, name, suggestions


_PLACE_COLUMNS = (GeoPincode.pincode, GeoPincode.locality, GeoDistrict.name, GeoState.name,
                  GeoDistrict.id, GeoState.id, GeoPincode.latitude, GeoPincode.longitude)


def _place_query():
    return (select(*_PLACE_COLUMNS)
            .join(GeoDistrict, GeoPincode.district_id == GeoDistrict.id)
            .join(GeoState, GeoDistrict.state_id == GeoState.id))


# The directory changes only when `vaxgate geo load` brings a new build, and every USSD
# list step asks where its caller's home is: each process remembers the answers (per
# database), so a step pays no SQL for it. A process started before a new build was loaded
# keeps the old answers until it restarts.
_KNOWN: dict[tuple[object, str, bool], Place | None] = {}
KNOWN_MAX = 50_000  # entries, then the memory starts again (unknown PIN codes are cheap)


def _remembered(session: Session, pincode: str, near: bool) -> tuple[tuple, bool]:
    key = (session.get_bind().url, pincode, near)
    return key, key in _KNOWN


def forget() -> None:
    """Drop what this process remembers (after loading another build of the directory)."""
    _KNOWN.clear()


def _remember(key: tuple, place: Place | None) -> Place | None:
    if len(_KNOWN) >= KNOWN_MAX:
        _KNOWN.clear()
    _KNOWN[key] = place
    return place


def place_of(session: Session, pincode: str) -> Place | None:
    """The PIN code's place, or None when India Post's directory has no such PIN code."""
    key, known = _remembered(session, pincode, near=False)
    if known:
        return _KNOWN[key]
    row = session.execute(_place_query().where(GeoPincode.pincode == pincode,
                                               GeoPincode.is_primary.is_(True))).first()
    return _remember(key, Place(*row) if row else None)


def place_near(session: Session, pincode: str) -> Place | None:
    """The PIN code's place; for one not in the directory (registered before it was), the
    place of the nearest-numbered PIN code of its sorting district (first three digits)."""
    found = place_of(session, pincode)
    if found or not (pincode.isascii() and pincode.isdigit() and len(pincode) == 6):
        return found
    key, known = _remembered(session, pincode, near=True)
    return _KNOWN[key] if known else _remember(key, _neighbour(session, pincode))


def _neighbour(session: Session, pincode: str) -> Place | None:
    neighbours = session.scalars(select(GeoPincode.pincode).distinct()
                                 .where(GeoPincode.pincode.startswith(pincode[:3]))).all()
    if not neighbours:
        return None
    closest = min(neighbours, key=lambda other: (abs(int(other) - int(pincode)), other))
    near = place_of(session, closest)
    return dataclasses.replace(near, pincode=pincode, exact=False) if near else None


def is_pincode(session: Session, pincode: str) -> bool:
    """True when India Post's directory has the PIN code."""
    return place_of(session, pincode) is not None


def unknown_pincodes(session: Session, pincodes: set[str]) -> set[str]:
    """The ones of ``pincodes`` that India Post's directory does not have."""
    known: set[str] = set()
    wanted = sorted(pincodes)
    for start in range(0, len(wanted), 500):
        chunk = wanted[start:start + 500]
        known.update(session.scalars(select(GeoPincode.pincode).distinct()
                                     .where(GeoPincode.pincode.in_(chunk))))
    return pincodes - known


def lies_in(session: Session, pincode: str, state: str, district: str) -> bool:
    """True when the PIN code is (one of the PIN codes) in that district of that state."""
    return session.scalar(
        select(GeoPincode.pincode)
        .join(GeoDistrict, GeoPincode.district_id == GeoDistrict.id)
        .join(GeoState, GeoDistrict.state_id == GeoState.id)
        .where(GeoPincode.pincode == pincode, GeoDistrict.name == district,
               GeoState.name == state).limit(1)) is not None


def districts_of_pincode(session: Session, pincode: str) -> list[str]:
    """The districts a PIN code lies in, its primary one first."""
    return list(session.scalars(
        select(GeoDistrict.name).join(GeoPincode, GeoPincode.district_id == GeoDistrict.id)
        .where(GeoPincode.pincode == pincode)
        .order_by(GeoPincode.is_primary.desc(), GeoDistrict.name)))


def states(session: Session) -> list[GeoState]:
    """Every state and union territory, by name."""
    return list(session.scalars(select(GeoState).order_by(GeoState.name)))


def districts(session: Session, state_id: int | None = None) -> list[GeoDistrict]:
    """The districts of a state (of all states when ``state_id`` is None), by name."""
    query = select(GeoDistrict).order_by(GeoDistrict.name, GeoDistrict.id)
    if state_id is not None:
        query = query.where(GeoDistrict.state_id == state_id)
    return list(session.scalars(query))


def state_named(session: Session, name: str) -> GeoState:
    """The state called ``name`` (any case); UnknownPlace with close names otherwise."""
    wanted = " ".join(str(name).split()).casefold()
    every = states(session)
    for state in every:
        if state.name.casefold() == wanted:
            return state
    raise UnknownPlace("state", name, _close(name, [s.name for s in every]))


def district_named(session: Session, state: str, name: str) -> tuple[GeoState, GeoDistrict]:
    """The (state, district) called so (any case); UnknownPlace with close names otherwise."""
    found = state_named(session, state)
    wanted = " ".join(str(name).split()).casefold()
    candidates = districts(session, found.id)
    for district in candidates:
        if district.name.casefold() == wanted:
            return found, district
    raise UnknownPlace("district", name, _close(name, [d.name for d in candidates]))


def any_district_named(session: Session, name: str) -> GeoDistrict:
    """A district of any state called ``name`` (any case); UnknownPlace otherwise."""
    wanted = " ".join(str(name).split()).casefold()
    every = districts(session)
    for district in every:
        if district.name.casefold() == wanted:
            return district
    raise UnknownPlace("district", name, _close(name, sorted({d.name for d in every})))


def states_with_district(session: Session, name: str) -> list[str]:
    """The states that have a district called ``name`` (any case), by name: more than one
    for a name two states share (Aurangabad, Bilaspur...)."""
    wanted = " ".join(str(name).split()).casefold()
    return list(session.scalars(
        select(GeoState.name).join(GeoDistrict, GeoDistrict.state_id == GeoState.id)
        .where(func.lower(GeoDistrict.name) == wanted).order_by(GeoState.name)))


def _close(name: str, names: list[str]) -> list[str]:
    by_fold = {n.casefold(): n for n in names}
    found = difflib.get_close_matches(str(name).casefold(), list(by_fold), n=SUGGESTIONS,
                                      cutoff=0.6)
    return [by_fold[f] for f in found]


def pincodes_near(point: Point, radius_km: float, district_id: int | None = None):
    """A SELECT of the PIN codes within ``radius_km`` of ``point`` (a box around it) or in
    the district: for "who waits near this center"."""
    (south, west), (north, east) = bounding_box(point, radius_km)
    box = and_(GeoPincode.latitude.between(south, north),
               GeoPincode.longitude.between(west, east))
    where = box if district_id is None else box | (GeoPincode.district_id == district_id)
    return select(GeoPincode.pincode).where(where)


def district_id_of(session: Session, state: str, district: str) -> int | None:
    """The id of the district with exactly these names, or None."""
    return session.scalar(
        select(GeoDistrict.id).join(GeoState, GeoDistrict.state_id == GeoState.id)
        .where(GeoDistrict.name == district, GeoState.name == state))


def count_pincodes(session: Session) -> int:
    """How many PIN codes are loaded (0 before the first load)."""
    return session.scalar(select(func.count(func.distinct(GeoPincode.pincode)))) or 0
