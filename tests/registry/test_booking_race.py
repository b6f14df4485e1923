"""Booking is atomic: 50 concurrent bookings from 5 processes for 5 places book exactly 5.

Runs on SQLite by default and on PostgreSQL when TEST_DATABASE_URL is set.
"""
from __future__ import annotations

import datetime as dt
import multiprocessing
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select

from gateway.registry import appointments
from gateway.registry.errors import SlotFull
from gateway.storage import Appointment, Beneficiary, Center, Database, Slot

PROCESSES = 5
THREADS_PER_PROCESS = 10
PLACES = 5
TODAY = dt.date(2026, 11, 22)


def _book_once(db: Database, beneficiary_id: int, slot_id: int, last: bool = False) -> str:
    """One booking; ``last``: the place is taken last in the transaction (the USSD
    confirm's order, after the appointment's other rows)."""
    try:
        with db.write() as session:
            booked = appointments.book(session, beneficiary_id, slot_id, today=TODAY,
                                       take_place_later=last)
            if last:
                appointments.take_place(session, booked)
        return "booked"
    except SlotFull:
        return "full"


def _racer(url: str, beneficiary_ids: list[int], slot_id: int, start, results,
           last: bool = False) -> None:
    db = Database(url)
    start.wait()
    with ThreadPoolExecutor(len(beneficiary_ids)) as pool:
        outcomes = list(pool.map(lambda b: _book_once(db, b, slot_id, last), beneficiary_ids))
    db.dispose()
    results.put(outcomes)


def race(db: Database, url: str, last: bool = False) -> tuple[list[str], int]:
    """PROCESSES processes of THREADS_PER_PROCESS threads book PLACES places on ``url``:
    (every outcome, the slot's id)."""
    slot_id, people = _seed(db, PROCESSES * THREADS_PER_PROCESS, capacity=45, booked=45 - PLACES)
    db.dispose()
    # spawn, not fork: a forked child inherits SQLite's per-process lock table and the
    # pooled connections of earlier tests, and may break the next test's database (I/O error)
    ctx = multiprocessing.get_context("spawn")
    start, results = ctx.Event(), ctx.Queue()
    chunks = [people[i::PROCESSES] for i in range(PROCESSES)]
    racers = [ctx.Process(target=_racer, args=(url, chunk, slot_id, start, results, last))
              for chunk in chunks]
    for racer in racers:
        racer.start()
    start.set()
    outcomes = [o for _ in racers for o in results.get(timeout=120)]
    for racer in racers:
        racer.join(timeout=30)
    return outcomes, slot_id


def assert_booked_exactly(db: Database, outcomes: list[str], slot_id: int) -> None:
    """PLACES bookings, every other attempt refused as full, counters and rows agreeing."""
    assert len(outcomes) == PROCESSES * THREADS_PER_PROCESS
    assert outcomes.count("booked") == PLACES
    assert outcomes.count("full") == len(outcomes) - PLACES
    with db.read() as session:
        slot = session.get(Slot, slot_id)
        assert slot.booked == slot.capacity == 45
        assert session.scalar(select(func.count()).select_from(Appointment)) == PLACES


def _seed(db: Database, people: int, capacity: int, booked: int) -> tuple[int, list[int]]:
    with db.write() as session:
        center = Center(code="RACE", name="PHC Race", state="Bihar", district="Patna",
                        pincode="800001")
        session.add(center)
        session.flush()
        slot = Slot(center_id=center.id, date=TODAY, start_time=dt.time(9),
                    end_time=dt.time(11), age_group="18-44", capacity=capacity, booked=booked)
        session.add(slot)
        beneficiaries = [Beneficiary(phone=f"+9190000{n:05d}", name=f"Person {n}",
                                     name_key=f"person {n}", birth_year=1990, gender="F",
                                     id_type="aadhaar", id_last4="1234", pincode="800001")
                         for n in range(people)]
        session.add_all(beneficiaries)
        session.flush()
        return slot.id, [b.id for b in beneficiaries]


@pytest.mark.slow
@pytest.mark.parametrize("place_last", [False, True], ids=["place-first", "place-last"])
def test_fifty_concurrent_bookings_from_five_processes_never_overbook(db, database_url,
                                                                      place_last):
    outcomes, slot_id = race(db, database_url, last=place_last)
    assert_booked_exactly(db, outcomes, slot_id)


def test_the_same_person_booking_twice_at_once_gets_one_appointment(db, database_url):
    slot_id, (person,) = _seed(db, 1, capacity=10, booked=0)
    with ThreadPoolExecutor(8) as pool:
        outcomes = list(pool.map(lambda _: _book_or_refuse(db, person, slot_id), range(8)))
    assert outcomes.count("booked") == 1
    with db.read() as session:
        assert session.get(Slot, slot_id).booked == 1


def _book_or_refuse(db: Database, person: int, slot_id: int) -> str:
    try:
        return _book_once(db, person, slot_id)
    except appointments.AlreadyBooked:
        return "refused"


def test_a_full_slot_refuses_the_next_booking(db):
    slot_id, (person,) = _seed(db, 1, capacity=3, booked=3)
    with pytest.raises(SlotFull), db.write() as session:
        appointments.book(session, person, slot_id, today=TODAY)


def test_a_reference_already_taken_is_drawn_again(db, monkeypatch):
    slot_id, (first, second) = _seed(db, 2, capacity=10, booked=0)
    with db.write() as session:
        taken = appointments.book(session, first, slot_id, today=TODAY).reference
    draws = iter([taken, "K7QP3M"])
    monkeypatch.setattr(appointments, "new_reference", lambda: next(draws))

    with db.write() as session:
        booked = appointments.book(session, second, slot_id, today=TODAY)
        reference, status = booked.reference, booked.status

    assert (reference, status) == ("K7QP3M", "booked")
    with db.read() as session:
        assert session.get(Slot, slot_id).booked == 2
        assert session.scalar(select(Appointment.beneficiary_id)
                              .where(Appointment.reference == "K7QP3M")) == second


def test_booking_a_booked_person_again_names_the_booking_and_returns_the_place(db):
    slot_id, (person,) = _seed(db, 1, capacity=10, booked=0)
    with db.write() as session:
        reference = appointments.book(session, person, slot_id, today=TODAY).reference

    with pytest.raises(appointments.AlreadyBooked) as refused, db.write() as session:
        appointments.book(session, person, slot_id, today=TODAY)

    assert refused.value.reference == reference
    with db.read() as session:
        assert session.get(Slot, slot_id).booked == 1
        assert session.scalar(select(func.count()).select_from(Appointment)) == 1


def test_a_booking_hands_back_a_complete_appointment_with_its_history(db):
    slot_id, (person,) = _seed(db, 1, capacity=10, booked=0)
    with db.write() as session:
        booked = appointments.book(session, person, slot_id, today=TODAY, channel="ivr")
        seen = (booked.status, booked.dose, booked.channel, booked.slot.booked,
                booked.beneficiary.name, booked.created_at is not None)
        appointment_id = booked.id

    assert seen == ("booked", 1, "ivr", 1, "Person 0", True)
    with db.read() as session:
        history = session.get(Appointment, appointment_id).events
        assert [(e.status, e.channel) for e in history] == [("booked", "ivr")]
