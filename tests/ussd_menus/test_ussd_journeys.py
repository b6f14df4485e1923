"""A citizen registers and books over USSD (Africa's Talking protocol), end to end:
real Flask app, real redis-server, real migrated database."""
from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import func, select

from gateway.registry.appointments import REFERENCE_ALPHABET
from gateway.storage import Appointment, AppointmentEvent, Beneficiary, PhoneProfile, Slot
from gateway.text.encoding import screen_length, screen_limit

ENGLISH, HINDI, BENGALI = "1", "2", "3"
REGISTER, BOOK, MY_APPOINTMENTS = "1", "2", "3"
YES = "1"
REFERENCE = re.compile(rf"\b([{REFERENCE_ALPHABET}]{{6}})\b")


def register(phone, name="Sita Devi", year="1948", pincode="800020", from_menu=True):
    """From the main menu: register one person; returns the last screen."""
    steps = [REGISTER] if from_menu else []
    return phone.send(*steps, name, year, "2", "1", "1234", pincode, YES)


def book_first_choices(phone, person="1"):
    """From the main menu: book the first date, center and window for ``person``."""
    return phone.send(BOOK, person, "1", "1", "1", YES)


def assert_fits(screen: str):
    text = screen[4:]
    assert screen_length(text) <= screen_limit(text), (screen_length(text), text)


@pytest.mark.usefixtures("demo_centers")
@pytest.mark.parametrize("language", [ENGLISH, HINDI, BENGALI])
def test_new_phone_registers_and_books_in_each_language(phone, db, language):
    screens = [phone.dial(), phone.send(language)]
    screens.append(register(phone))
    screens.append(phone.send("00"))
    for answer in (BOOK, "1", "1", "1", "1"):
        screens.append(phone.send(answer))
    end = phone.send(YES)
    screens.append(end)

    for screen in screens:
        assert_fits(screen)
    assert all(s.startswith("CON ") for s in screens[:-1])
    assert end.startswith("END ")
    reference = REFERENCE.search(end).group(1)
    with db.read() as session:
        appointment = session.scalar(select(Appointment))
        assert appointment.reference == reference
        assert appointment.status == "booked"
        assert appointment.beneficiary.name == "Sita Devi"
        assert appointment.slot.booked == 1
        assert [e.status for e in appointment.events] == ["booked"]
        lang = session.get(PhoneProfile, phone.phone).language
    assert lang == {"1": "en", "2": "hi", "3": "bn"}[language]


@pytest.mark.usefixtures("demo_centers")
def test_language_is_remembered_for_the_phone(phone):
    phone.dial()
    phone.send(HINDI)
    second = phone.dial()
    assert "रजिस्टर" in second  # straight to the Hindi main menu, no language question


@pytest.mark.usefixtures("demo_centers")
def test_reference_code_has_no_ambiguous_characters(phone):
    phone.dial()
    phone.send(ENGLISH)
    register(phone)
    phone.send("00")
    end = book_first_choices(phone)
    reference = REFERENCE.search(end).group(1)
    assert not set(reference) & set("0O1IL5S8B")


@pytest.mark.usefixtures("demo_centers")
def test_registering_the_same_person_twice_creates_one_record(phone, db):
    phone.dial()
    phone.send(ENGLISH)
    register(phone)
    phone.dial()
    again = register(phone, name="  sita   DEVI ")
    assert "already registered" in again.lower()
    with db.read() as session:
        assert session.scalar(select(func.count()).select_from(Beneficiary)) == 1


@pytest.mark.usefixtures("demo_centers")
def test_fifth_person_on_one_phone_is_refused(phone, db):
    phone.dial()
    phone.send(ENGLISH)
    for number, name in enumerate(["Ram Lal", "Sita Devi", "Gita Devi", "Mohan Lal"]):
        phone.dial()
        register(phone, name=name, year=str(1950 + number))
    phone.dial()
    refused = phone.send(REGISTER)
    assert refused.startswith("END ") and "4" in refused
    with db.read() as session:
        assert session.scalar(select(func.count()).select_from(Beneficiary)) == 4


@pytest.mark.usefixtures("demo_centers")
def test_beneficiary_cap_is_configurable(settings, db, redis_client):
    from gateway import create_app
    from tests.conftest import UssdPhone

    settings.registration.max_beneficiaries_per_phone = 1
    phone = UssdPhone(create_app(settings).test_client())
    phone.dial()
    phone.send(ENGLISH)
    register(phone)
    phone.dial()
    assert phone.send(REGISTER).startswith("END ")


@pytest.mark.usefixtures("demo_centers")
def test_too_young_person_cannot_register(phone, db):
    phone.dial()
    phone.send(ENGLISH)
    screen = phone.send(REGISTER, "Baby Kumari", "2020")
    assert "18" in screen and screen.startswith("CON ")
    with db.read() as session:
        assert session.scalar(select(func.count()).select_from(Beneficiary)) == 0


@pytest.mark.usefixtures("demo_centers")
def test_family_members_book_on_the_same_phone(phone, db):
    phone.dial()
    phone.send(ENGLISH)
    register(phone, name="Ram Lal", year="1950")
    phone.dial()
    register(phone, name="Asha Kumari", year="1990")
    phone.dial()
    choose_person = phone.send(BOOK)
    assert "Ram Lal" in choose_person and "Asha Kumari" in choose_person
    end = phone.send("2", "1", "1", "1", YES)
    assert end.startswith("END ") and "Asha Kumari" in end
    with db.read() as session:
        appointment = session.scalar(select(Appointment))
        assert appointment.beneficiary.name == "Asha Kumari"
        assert appointment.slot.age_group == "18-44"


def _booked_phone(phone):
    phone.dial()
    phone.send(ENGLISH)
    register(phone)
    phone.send("00")
    return REFERENCE.search(book_first_choices(phone)).group(1)


@pytest.mark.usefixtures("demo_centers")
def test_my_appointments_lists_and_cancels(phone, db):
    reference = _booked_phone(phone)
    phone.dial()
    listing = phone.send(MY_APPOINTMENTS)
    assert reference in listing
    end = phone.send("1", "1", YES)
    assert end.startswith("END ") and reference in end
    with db.read() as session:
        appointment = session.scalar(select(Appointment))
        assert appointment.status == "cancelled"
        assert appointment.slot.booked == 0
        assert [e.status for e in appointment.events] == ["booked", "cancelled"]


@pytest.mark.usefixtures("demo_centers")
def test_reschedule_moves_the_booking_to_the_new_slot(phone, db):
    old_reference = _booked_phone(phone)
    phone.dial()
    end = phone.send(MY_APPOINTMENTS, "1", "2", "2", "1", "1", YES)
    assert end.startswith("END ")
    new_reference = REFERENCE.search(end).group(1)
    with db.read() as session:
        old = session.scalar(select(Appointment).where(Appointment.reference == old_reference))
        new = session.scalar(select(Appointment).where(Appointment.reference == new_reference))
        assert old.status == "rescheduled" and old.slot.booked == 0
        assert new.status == "booked" and new.slot.booked == 1
        assert new.slot.date > old.slot.date


@pytest.mark.usefixtures("demo_centers")
def test_reschedule_into_a_slot_that_just_filled_keeps_the_old_booking(phone, db):
    old_reference = _booked_phone(phone)
    phone.dial()
    confirm = phone.send(MY_APPOINTMENTS, "1", "2", "2", "1", "1")
    assert confirm.startswith("CON ")
    with db.write() as session:  # others take every 09:00 place (the chosen window) meanwhile
        appointment = session.scalar(select(Appointment))
        for slot in session.scalars(select(Slot).where(Slot.id != appointment.slot_id,
                                                       Slot.start_time == dt.time(9))):
            slot.booked = slot.capacity
    retry = phone.send(YES)
    assert "filled up" in retry
    with db.read() as session:
        old = session.scalar(select(Appointment).where(Appointment.reference == old_reference))
        assert old.status == "booked" and old.slot.booked == 1
        assert session.scalar(select(func.count()).select_from(AppointmentEvent)) == 1


@pytest.mark.usefixtures("demo_centers")
def test_a_booked_person_is_not_booked_twice(phone, db):
    reference = _booked_phone(phone)
    phone.dial()
    again = book_first_choices(phone)
    assert "already" in again.lower() and reference in again
    with db.read() as session:
        assert session.scalar(select(func.count()).select_from(Appointment)) == 1
