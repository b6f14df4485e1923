"""The waitlist: when no slot is free, people queue; freed places are offered in turn.

"Near you" is the booking menu's rule (gateway/registry/centers.py ``rank``): a center at
the home PIN code, in its district, or within ``booking.near_km`` of it.

An offer *holds* the place: the same conditional ``UPDATE slots SET booked = booked + 1
WHERE booked < capacity`` as booking takes it, so a held place cannot be booked by anyone
else and no place is ever promised twice. The holder confirms by dialling (the main menu
opens with the offer) or replying YES; claiming flips the entry ``offered -> booked`` with a
conditional UPDATE (so exactly one claim wins) and books into the held place. A hold that
runs out is released and the entry goes to the back of the queue (or lapses after
``waitlist.max_offers``); the place is then offered to the next person.
"""
from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from gateway.config import Settings
from gateway.geo import places
from gateway.registry import appointments, beneficiaries, centers
from gateway.registry.errors import AlreadyBooked, NotFound, RegistryError
from gateway.reminders import texts
from gateway.reminders.models import ACTIVE_WAITLIST, WaitlistEntry, WaitlistStatus
from gateway.sms import outbox
from gateway.sms.budget import Budget
from gateway.storage import Appointment, Beneficiary, Center, Database, Slot
from gateway.storage.ledger import MessageKind
from gateway.storage.models import utcnow
from gateway.text import i18n

log = logging.getLogger("vaxgate.waitlist")
BATCH = 500
W = WaitlistStatus


class _Taken(Exception):
    """Another process offered this entry first (rolls the offer back)."""


@dataclass(frozen=True)
class Offer:
    """A live offer, as the USSD menu shows it."""

    entry_id: int
    beneficiary_name: str
    center_name: str
    date: dt.date
    start_time: dt.time
    end_time: dt.time


def join(session: Session, beneficiary_id: int, phone: str, today: dt.date,
         lang: str = i18n.DEFAULT_LANGUAGE) -> tuple[WaitlistEntry, bool]:
    """Put a person on the waitlist; (entry, created). Raises NotFound / AlreadyBooked."""
    person = session.get(Beneficiary, beneficiary_id)
    if person is None or person.phone != phone:
        raise NotFound("beneficiary not registered on this phone")
    booked = appointments.active_appointment(session, beneficiary_id)
    if booked:
        raise AlreadyBooked(booked.reference)
    existing = _active_entry(session, beneficiary_id)
    if existing:
        return existing, False
    entry = WaitlistEntry(beneficiary_id=beneficiary_id, phone=phone, pincode=person.pincode,
                          age_group=beneficiaries.age_group(person.birth_year, today),
                          lang=lang, status=W.WAITING.value, offers=0)
    try:
        with session.begin_nested():
            session.add(entry)
    except IntegrityError:  # a concurrent request queued this person first
        return _active_entry(session, beneficiary_id), False  # type: ignore[return-value]
    return entry, True


def _active_entry(session: Session, beneficiary_id: int) -> WaitlistEntry | None:
    return session.scalar(select(WaitlistEntry).where(
        WaitlistEntry.beneficiary_id == beneficiary_id,
        WaitlistEntry.status.in_(ACTIVE_WAITLIST)))


# ---- offering ----------------------------------------------------------------------------

def run(db: Database, settings: Settings, now: dt.datetime | None = None,
        near_center: int | None = None) -> list[int]:
    """Release expired holds, then offer free places in queue order (to the people waiting
    near ``near_center`` when given); the offer SMS ids."""
    now = (now or utcnow()).astimezone(dt.UTC)
    release_expired(db, settings, now)
    return offer_free_places(db, settings, now, near_center)


def release_expired(db: Database, settings: Settings, now: dt.datetime) -> int:
    """Give back every place whose hold ran out; the entry re-queues at the back or lapses."""
    with db.write() as session:
        expired = session.scalars(select(WaitlistEntry).where(
            WaitlistEntry.status == W.OFFERED.value, WaitlistEntry.hold_expires_at <= now)
            .limit(BATCH)).all()
        released = [e for e in expired if _release(session, e, now, settings.waitlist.max_offers)]
    return len(released)


def _release(session: Session, entry: WaitlistEntry, now: dt.datetime, max_offers: int) -> bool:
    status = W.LAPSED if entry.offers >= max_offers else W.WAITING
    moved = session.execute(update(WaitlistEntry).where(
        WaitlistEntry.id == entry.id, WaitlistEntry.status == W.OFFERED.value)
        .values(status=status.value, slot_id=None, hold_expires_at=None, queued_at=now,
                updated_at=now).execution_options(synchronize_session=False))
    if moved.rowcount != 1:
        return False
    _give_back(session, entry.slot_id)
    return True


def _give_back(session: Session, slot_id: int | None) -> None:
    session.execute(update(Slot).where(Slot.id == slot_id, Slot.booked > 0)
                    .values(booked=Slot.booked - 1).execution_options(synchronize_session=False))


def offer_free_places(db: Database, settings: Settings, now: dt.datetime,
                      near_center: int | None = None) -> list[int]:
    """Offer free places to waiting people, first come first served; the offer SMS ids."""
    days = _bookable_days(settings, now)
    with db.read() as session:
        query = select(WaitlistEntry).where(WaitlistEntry.status == W.WAITING.value,
                                            WaitlistEntry.age_group.in_(_open_groups(session,
                                                                                     days)))
        if near_center is not None:
            query = query.where(WaitlistEntry.pincode.in_(
                _pincodes_near(session, near_center, settings.booking.near_km)))
        waiting = session.scalars(query.order_by(WaitlistEntry.queued_at, WaitlistEntry.id)
                                  .limit(BATCH)).all()
        hopeless = _without_places(session, settings, waiting, days, now)
    message_ids: list[int] = []
    exhausted: set[tuple[str, str]] = set(hopeless)
    for entry in waiting:
        area = (entry.pincode, entry.age_group)
        if area in exhausted:
            continue
        try:
            message_id = _offer(db, settings, entry.id, days, now)
        except _Taken:
            continue
        if message_id is None:
            exhausted.add(area)
        else:
            message_ids.append(message_id)
    return message_ids


def _open_groups(session: Session, days: list[dt.date]) -> set[str]:
    """The age groups with a free place anywhere on those days."""
    return set(session.scalars(
        select(Slot.age_group).distinct().join(Center, Slot.center_id == Center.id)
        .where(Center.active.is_(True), Slot.date.in_(days), Slot.booked < Slot.capacity)))


def _pincodes_near(session: Session, center_id: int, near_km: float):
    """A SELECT of the home PIN codes a place at this center is near (its own, its
    district's, those within ``near_km``)."""
    center = session.get(Center, center_id)
    if center is None or center.latitude is None:
        return select(Center.pincode).where(Center.id == center_id)
    district_id = places.district_id_of(session, center.state, center.district)
    return places.pincodes_near((center.latitude, center.longitude), near_km, district_id)


def _without_places(session: Session, settings: Settings, waiting: list[WaitlistEntry],
                    days: list[dt.date], now: dt.datetime) -> set[tuple[str, str]]:
    """The (PIN code, age group) areas of ``waiting`` with no free place near them, so that
    no write transaction is opened for them."""
    areas = {(entry.pincode, entry.age_group) for entry in waiting}
    return {area for area in areas
            if not _near_slots(session, settings, *area, days, now)}


def _offer(db: Database, settings: Settings, entry_id: int, days: list[dt.date],
           now: dt.datetime) -> int | None:
    """Hold the best free place for one entry and record its SMS; None if none is free."""
    hold_until = now + dt.timedelta(minutes=settings.waitlist.hold_minutes)
    with db.write() as session:
        entry = session.get(WaitlistEntry, entry_id)
        for candidate in _ranked_slots(session, entry, days, hold_until, settings):
            if _take(session, candidate.slot_id):
                break
        else:
            return None
        claimed = session.execute(update(WaitlistEntry).where(
            WaitlistEntry.id == entry_id, WaitlistEntry.status == W.WAITING.value)
            .values(status=W.OFFERED.value, slot_id=candidate.slot_id, updated_at=now,
                    hold_expires_at=hold_until, offers=WaitlistEntry.offers + 1)
            .execution_options(synchronize_session=False))
        if claimed.rowcount != 1:
            raise _Taken(entry_id)  # rolls back the place taken above
        return _record_offer(session, settings, entry, candidate, hold_until)


def _ranked_slots(session: Session, entry: WaitlistEntry, days: list[dt.date],
                  not_before: dt.datetime, settings: Settings) -> list[centers.FreeSlot]:
    """Free slots for the entry, ranked as the booking menu would, starting after the hold."""
    return _near_slots(session, settings, entry.pincode, entry.age_group, days, not_before)


def _near_slots(session: Session, settings: Settings, pincode: str, age_group: str,
                days: list[dt.date], not_before: dt.datetime) -> list[centers.FreeSlot]:
    """The first free slot (after ``not_before``) of each center near the PIN code, in the
    booking menu's order."""
    zone, near_km = ZoneInfo(settings.timezone), settings.booking.near_km
    home = places.place_near(session, pincode)
    found = (centers.free_slots_near(session, home, age_group, days, near_km) if home
             else centers.free_slots_at(session, pincode, age_group, days))
    found = [s for s in found if dt.datetime.combine(s.date, s.start_time, zone) > not_before]
    return [ranked.slot for ranked in centers.rank(found, home, pincode, near_km)]


def _take(session: Session, slot_id: int) -> bool:
    taken = session.execute(update(Slot).where(Slot.id == slot_id, Slot.booked < Slot.capacity)
                            .values(booked=Slot.booked + 1)
                            .execution_options(synchronize_session=False))
    return taken.rowcount == 1


def _record_offer(session: Session, settings: Settings, entry: WaitlistEntry,
                  slot: centers.FreeSlot, hold_until: dt.datetime) -> int:
    person = session.get(Beneficiary, entry.beneficiary_id)
    until = hold_until.astimezone(ZoneInfo(settings.timezone)).strftime("%H:%M")
    body = texts.render("waitlist_offer", entry.lang, name=person.name, center=slot.center_name,
                        date=slot.date, window=(slot.start_time, slot.end_time), until=until,
                        short_code=settings.ussd.service_codes[0])
    message = outbox.record_message(
        session, phone=entry.phone, kind=MessageKind.CONFIRMATION, body=body, lang=entry.lang,
        dedupe_key=f"waitlist:{entry.id}:offer{entry.offers + 1}", expires_at=hold_until,
        budget=Budget.of(settings.sms.budget))
    return message.id


def _bookable_days(settings: Settings, now: dt.datetime) -> list[dt.date]:
    today = now.astimezone(ZoneInfo(settings.timezone)).date()
    return [today + dt.timedelta(days=d) for d in range(settings.booking.days_ahead)]


# ---- claiming ------------------------------------------------------------------------------

def live_offers(session: Session, phone: str, now: dt.datetime) -> list[Offer]:
    """Offers held for people on this phone, oldest first."""
    rows = session.execute(
        select(WaitlistEntry.id, Beneficiary.name, Center.name, Slot.date, Slot.start_time,
               Slot.end_time)
        .join(Beneficiary, WaitlistEntry.beneficiary_id == Beneficiary.id)
        .join(Slot, WaitlistEntry.slot_id == Slot.id).join(Center, Slot.center_id == Center.id)
        .where(WaitlistEntry.phone == phone, WaitlistEntry.status == W.OFFERED.value,
               WaitlistEntry.hold_expires_at > now).order_by(WaitlistEntry.id))
    return [Offer(*row) for row in rows]


def claim(session: Session, entry_id: int, phone: str, now: dt.datetime, today: dt.date,
          channel: str) -> Appointment | None:
    """Book the held place for the entry; None if the hold is gone (or another claim won)."""
    won = session.execute(update(WaitlistEntry).where(
        WaitlistEntry.id == entry_id, WaitlistEntry.phone == phone,
        WaitlistEntry.status == W.OFFERED.value, WaitlistEntry.hold_expires_at > now)
        .values(status=W.BOOKED.value, updated_at=now)
        .execution_options(synchronize_session=False))
    if won.rowcount != 1:
        return None
    entry = session.get(WaitlistEntry, entry_id)
    session.refresh(entry)
    try:
        with session.begin_nested():
            booked = appointments.book(session, entry.beneficiary_id, entry.slot_id, today=today,
                                       channel=channel, place_taken=True)
    except RegistryError as exc:  # booked elsewhere meanwhile, or no longer eligible
        log.info("waitlist entry %s cannot book its held place: %s", entry_id, exc)
        entry.status = W.WITHDRAWN.value
        _give_back(session, entry.slot_id)
        return None
    entry.appointment_id = booked.id
    return booked


def decline(session: Session, entry_id: int, phone: str, now: dt.datetime) -> bool:
    """The holder does not want the place: release it for the next person now."""
    entry = session.get(WaitlistEntry, entry_id)
    if entry is None or entry.phone != phone:
        return False
    moved = session.execute(update(WaitlistEntry).where(
        WaitlistEntry.id == entry_id, WaitlistEntry.status == W.OFFERED.value)
        .values(status=W.WITHDRAWN.value, hold_expires_at=None, updated_at=now)
        .execution_options(synchronize_session=False))
    if moved.rowcount == 1:
        _give_back(session, entry.slot_id)
    return moved.rowcount == 1


def waiting_names(session: Session, phone: str) -> list[str]:
    """Names of the people on this phone who are on the waitlist (for STATUS)."""
    return list(session.scalars(
        select(Beneficiary.name).join(WaitlistEntry, WaitlistEntry.beneficiary_id ==
                                      Beneficiary.id)
        .where(WaitlistEntry.phone == phone, WaitlistEntry.status.in_(ACTIVE_WAITLIST))))


def format_offer(offer: Offer, lang: str | None) -> dict[str, str]:
    """Menu variables for an offer."""
    return {"offer_id": str(offer.entry_id), "beneficiary_name": offer.beneficiary_name,
            "center_name": offer.center_name, "date_label": i18n.format_date(offer.date, lang),
            "window_label": i18n.format_window(offer.start_time, offer.end_time, lang)}
