"""Builders for reminder and waitlist tests: centers, slots, people and bookings in SQL."""
from __future__ import annotations

import datetime as dt
import itertools
from zoneinfo import ZoneInfo

from sqlalchemy import select

from gateway.geo import places
from gateway.registry import appointments
from gateway.storage import Appointment, Beneficiary, Center, Slot
from gateway.storage.ledger import Message

IST = ZoneInfo("Asia/Kolkata")
_counter = itertools.count(1)


def ist(*args: int) -> dt.datetime:
    """An aware IST datetime, e.g. ``ist(2026, 11, 23, 9)``."""
    return dt.datetime(*args, tzinfo=IST)


def center(db, code: str = "PAT1", pincode: str = "800020", district: str = "Patna",
           name: str = "UPHC Kankarbagh") -> int:
    """A center standing at its PIN code's point (as the console places one)."""
    with db.write() as session:
        place = places.place_of(session, pincode)
        row = Center(code=code, name=name, state="Bihar", district=district, pincode=pincode,
                     latitude=place.latitude, longitude=place.longitude)
        session.add(row)
        session.flush()
        return row.id


def slot(db, center_id: int, date: dt.date, start: dt.time = dt.time(9),
         end: dt.time = dt.time(11), capacity: int = 10, age_group: str = "18-44",
         booked: int = 0) -> int:
    with db.write() as session:
        row = Slot(center_id=center_id, date=date, start_time=start, end_time=end,
                   age_group=age_group, capacity=capacity, booked=booked)
        session.add(row)
        session.flush()
        return row.id


def person(db, phone: str | None = None, name: str = "Asha Devi", lang: str = "en",
           pincode: str = "800020", birth_year: int = 1990) -> int:
    n = next(_counter)
    with db.write() as session:
        row = Beneficiary(phone=phone or f"+9198{n:08d}", name=f"{name} {n}" if not phone
                          else name, name_key=f"{name.lower()}{n}", birth_year=birth_year,
                          gender="F", id_type="aadhaar", id_last4="1234", pincode=pincode,
                          language=lang)
        session.add(row)
        session.flush()
        return row.id


def book(db, beneficiary_id: int, slot_id: int, channel: str = "ussd",
         today: dt.date = dt.date(2026, 11, 22)) -> int:
    with db.write() as session:
        return appointments.book(session, beneficiary_id, slot_id, today=today,
                                 channel=channel).id


def reminders(db) -> list[Message]:
    with db.read() as session:
        return list(session.scalars(select(Message).where(Message.kind == "reminder")
                                    .order_by(Message.id)))


def appointment(db, appointment_id: int) -> Appointment:
    with db.read() as session:
        return session.get(Appointment, appointment_id)
