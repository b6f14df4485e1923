"""The waitlist: first come first served, a held place is never promised twice."""
from __future__ import annotations

import datetime as dt
from concurrent.futures import ThreadPoolExecutor

import pytest
import time_machine
from sqlalchemy import func, select

from gateway.registry import appointments
from gateway.registry.errors import SlotFull
from gateway.reminders import waitlist
from gateway.reminders.models import WaitlistEntry
from gateway.storage import Appointment, Slot
from gateway.storage.ledger import Message

from .support import center, ist, person, slot

TODAY = dt.date(2026, 11, 22)
NOW = ist(2026, 11, 22, 10).astimezone(dt.UTC)
HOLD = dt.timedelta(minutes=30)


@pytest.fixture(autouse=True)
def clock():
    """People join the queue a little before NOW (queue order is by time of joining)."""
    with time_machine.travel(NOW - dt.timedelta(minutes=10)):
        yield


@pytest.fixture
def full_slot(db):
    """A one-place slot tomorrow, already booked by someone (appointment id in .booking)."""
    slot_id = slot(db, center(db), TODAY + dt.timedelta(days=1), capacity=1)
    booking = appointments_book(db, person(db), slot_id)
    return slot_id, booking


def appointments_book(db, beneficiary_id, slot_id):
    with db.write() as session:
        return appointments.book(session, beneficiary_id, slot_id, today=TODAY).id


def join(db, beneficiary_id):
    with db.write() as session:
        phone = session.get(waitlist.Beneficiary, beneficiary_id).phone
        entry, _ = waitlist.join(session, beneficiary_id, phone, TODAY)
        return entry.id, phone


def cancel(db, appointment_id):
    with db.write() as session:
        appointments.cancel(session, appointment_id)


def entry(db, entry_id) -> WaitlistEntry:
    with db.read() as session:
        return session.get(WaitlistEntry, entry_id)


def booked(db, slot_id) -> int:
    with db.read() as session:
        return session.get(Slot, slot_id).booked


def test_a_freed_place_is_held_for_the_first_person_in_line(db, settings, full_slot):
    slot_id, booking = full_slot
    first, phone = join(db, person(db))
    second, _ = join(db, person(db))
    assert waitlist.run(db, settings, NOW) == []  # nothing free yet
    cancel(db, booking)
    [message_id] = waitlist.run(db, settings, NOW)
    assert entry(db, first).status == "offered" and entry(db, second).status == "waiting"
    assert booked(db, slot_id) == 1  # the place is held, not free
    with db.read() as session:
        sms = session.get(Message, message_id)
    assert sms.phone == phone and "UPHC Kankarbagh" in sms.body and "10:30" in sms.body
    with pytest.raises(SlotFull), db.write() as session:
        appointments.book(session, person(db), slot_id, today=TODAY)


def test_claiming_books_the_held_place_without_taking_another(db, settings, full_slot):
    slot_id, booking = full_slot
    entry_id, phone = join(db, person(db))
    cancel(db, booking)
    waitlist.run(db, settings, NOW)
    with db.write() as session:
        appointment = waitlist.claim(session, entry_id, phone, NOW, TODAY, "sms")
        assert appointment.slot_id == slot_id and appointment.channel == "sms"
    assert booked(db, slot_id) == 1 and entry(db, entry_id).status == "booked"


def test_an_unclaimed_hold_passes_to_the_next_person_and_lapses_after_max_offers(
        db, settings, full_slot):
    slot_id, booking = full_slot
    first, _ = join(db, person(db))
    second, _ = join(db, person(db))
    cancel(db, booking)
    waitlist.run(db, settings, NOW)
    waitlist.run(db, settings, NOW + HOLD)  # first's hold ran out
    assert (entry(db, first).status, entry(db, second).status) == ("waiting", "offered")
    waitlist.run(db, settings, NOW + 2 * HOLD)
    assert (entry(db, first).status, entry(db, second).status) == ("offered", "waiting")
    waitlist.run(db, settings, NOW + 3 * HOLD)
    waitlist.run(db, settings, NOW + 4 * HOLD)
    # two unclaimed offers each (max_offers): both lapse and the place is free again
    assert (entry(db, first).status, entry(db, second).status) == ("lapsed", "lapsed")
    assert booked(db, slot_id) == 0


def test_a_late_claim_after_the_hold_ran_out_books_nothing(db, settings, full_slot):
    _, booking = full_slot
    entry_id, phone = join(db, person(db))
    cancel(db, booking)
    waitlist.run(db, settings, NOW)
    with db.write() as session:
        assert waitlist.claim(session, entry_id, phone, NOW + HOLD, TODAY, "sms") is None


def test_declining_releases_the_place_for_the_next_person(db, settings, full_slot):
    _, booking = full_slot
    first, phone = join(db, person(db))
    second, _ = join(db, person(db))
    cancel(db, booking)
    waitlist.run(db, settings, NOW)
    with db.write() as session:
        assert waitlist.decline(session, first, phone, NOW)
    waitlist.run(db, settings, NOW)
    assert (entry(db, first).status, entry(db, second).status) == ("withdrawn", "offered")


def test_joining_twice_keeps_one_place_in_line(db):
    someone = person(db)
    assert join(db, someone) == join(db, someone)


def _claim_or_book(db, who: str, entry_id: int, phone: str, slot_id: int, walk_in: int) -> str:
    try:
        with db.write() as session:
            if who == "holder":
                won = waitlist.claim(session, entry_id, phone, NOW, TODAY, "sms")
                return "booked" if won else "refused"
            appointments.book(session, walk_in, slot_id, today=TODAY)
            return "booked"
    except SlotFull:
        return "refused"


@pytest.mark.slow
def test_concurrent_claims_for_the_last_place_exactly_one_wins(db, settings, full_slot):
    slot_id, booking = full_slot
    entry_id, phone = join(db, person(db))
    walk_ins = [person(db) for _ in range(6)]
    cancel(db, booking)
    waitlist.run(db, settings, NOW)
    racers = [("holder", 0)] * 6 + [("walk_in", w) for w in walk_ins]
    with ThreadPoolExecutor(len(racers)) as pool:
        outcomes = list(pool.map(
            lambda r: _claim_or_book(db, r[0], entry_id, phone, slot_id, r[1]), racers))
    assert outcomes.count("booked") == 1
    with db.read() as session:
        [winner] = session.scalars(select(Appointment).where(
            Appointment.slot_id == slot_id, Appointment.status == "booked")).all()
        assert winner.beneficiary.phone == phone
        assert session.get(Slot, slot_id).booked == 1


@pytest.mark.slow
def test_matchers_running_at_once_promise_the_last_place_once(db, settings, full_slot):
    slot_id, booking = full_slot
    entries = [join(db, person(db))[0] for _ in range(5)]
    cancel(db, booking)
    with ThreadPoolExecutor(6) as pool:
        list(pool.map(lambda _: waitlist.run(db, settings, NOW), range(6)))
    with db.read() as session:
        offered = session.scalar(select(func.count()).select_from(WaitlistEntry).where(
            WaitlistEntry.status == "offered"))
        offers_sent = session.scalar(select(func.count()).select_from(Message))
    assert offered == offers_sent == 1 and entry(db, entries[0]).status == "offered"
    assert booked(db, slot_id) == 1


def test_a_freed_place_goes_to_the_first_person_it_is_near_across_a_district_line(db,
                                                                                  settings):
    """Hajipur (Vaishali, PIN 844101) is 12 km from Kankarbagh (Patna, 800020) and 100 km
    from Gaya: the booking menu's rule, not the first digits of the PIN codes, decides."""
    hajipur = center(db, code="HJP1", pincode="844101", district="Vaishali",
                     name="Sadar Hospital Hajipur")
    slot_id = slot(db, hajipur, TODAY + dt.timedelta(days=1), capacity=1)
    booking = appointments_book(db, person(db, pincode="844101"), slot_id)
    in_gaya, _ = join(db, person(db, pincode="823001"))
    in_patna, _ = join(db, person(db, pincode="800020"))
    cancel(db, booking)
    waitlist.run(db, settings, NOW)
    assert entry(db, in_gaya).status == "waiting"
    assert entry(db, in_patna).status == "offered" and entry(db, in_patna).slot_id == slot_id
