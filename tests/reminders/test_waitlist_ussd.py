"""USSD: a full area offers the waitlist; a held place opens the next session; YES books it."""
from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from sqlalchemy import select

from gateway.reminders import waitlist
from gateway.reminders.models import WaitlistEntry
from gateway.storage import Appointment
from gateway.storage.ledger import Message
from tests.ussd_menus.test_ussd_journeys import BOOK, ENGLISH, REFERENCE, YES, register

from .support import center, slot

NOTIFY_ME = "1"


def _join_waitlist(phone) -> str:
    phone.dial()
    phone.send(ENGLISH)
    register(phone)
    phone.send("00")
    full = phone.send(BOOK, "1")
    assert full.startswith("CON ") and "Notify me when a slot opens" in full
    return phone.send(NOTIFY_ME)


def _open_a_place(db, settings) -> None:
    tomorrow = dt.datetime.now(ZoneInfo(settings.timezone)).date() + dt.timedelta(days=1)
    slot(db, center(db), tomorrow, dt.time(14), dt.time(16), capacity=1, age_group="45+")
    waitlist.run(db, settings)


def test_no_free_slot_offers_the_waitlist_instead_of_a_dead_end(phone, db):
    end = _join_waitlist(phone)
    assert end.startswith("END ") and "Sita Devi" in end
    with db.read() as session:
        [entry] = session.scalars(select(WaitlistEntry)).all()
    assert (entry.status, entry.pincode, entry.age_group) == ("waiting", "800020", "45+")


def test_a_held_place_opens_the_next_session_and_yes_books_it(phone, db, settings):
    _join_waitlist(phone)
    _open_a_place(db, settings)
    with db.read() as session:
        [offer_sms] = session.scalars(select(Message)).all()
    assert "Reply YES" in offer_sms.body
    offer = phone.dial()
    assert offer.startswith("CON A place is held for Sita Devi")
    booked = phone.send(YES)
    assert booked.startswith("END Booked!")
    with db.read() as session:
        appointment = session.scalar(select(Appointment))
        assert appointment.reference == REFERENCE.search(booked).group(1)
        assert appointment.slot.booked == 1
    assert "A place is held" not in phone.dial()  # claimed: the normal menu again


def test_declining_a_held_place_goes_to_the_main_menu(phone, db, settings):
    _join_waitlist(phone)
    _open_a_place(db, settings)
    phone.dial()
    menu = phone.send("2")
    assert "Book a slot" in menu
    with db.read() as session:
        assert session.scalar(select(WaitlistEntry.status)) == "withdrawn"


def test_a_ussd_cancellation_offers_the_freed_place_at_once(client, db, settings):
    from tests.conftest import UssdPhone
    from tests.ussd_menus.test_ussd_journeys import MY_APPOINTMENTS, book_first_choices

    tomorrow = dt.datetime.now(ZoneInfo(settings.timezone)).date() + dt.timedelta(days=1)
    slot(db, center(db), tomorrow, dt.time(14), dt.time(16), capacity=1, age_group="45+")
    first, second = UssdPhone(client, "+919800000001"), UssdPhone(client, "+919800000002")
    first.dial()
    first.send(ENGLISH)
    register(first)
    first.send("00")
    assert book_first_choices(first).startswith("END Booked!")
    _join_waitlist(second)
    first.dial()
    assert first.send(MY_APPOINTMENTS, "1", "1", YES).startswith("END ")  # cancel
    with db.read() as session:
        assert session.scalar(select(WaitlistEntry.status)) == "offered"
        offers = session.scalars(select(Message).where(Message.phone == second.phone)).all()
    assert len(offers) == 1 and "Reply YES" in offers[0].body
