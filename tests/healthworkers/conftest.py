"""Health-worker fixtures: a worker at a demo center, their phone, a booking helper."""
from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from gateway.healthworkers import accounts
from gateway.registry import appointments, beneficiaries
from gateway.storage import Center, Slot
from tests.conftest import UssdPhone

WORKER_PHONE = "+919900011122"
CENTER_CODE = "DEMO002"  # UPHC Kankarbagh, Patna 800020
PIN = "4826"


@pytest.fixture
def worker(db, demo_centers):
    with db.write() as session:
        return accounts.create(session, name="Asha Kumari", phone=WORKER_PHONE,
                               center_code=CENTER_CODE).id


@pytest.fixture
def worker_with_pin(db, worker):
    with db.write() as session:
        accounts.set_pin(session, accounts.get(session, worker), PIN)
    return worker


@pytest.fixture
def hw_phone(client) -> UssdPhone:
    return UssdPhone(client, phone=WORKER_PHONE)


@pytest.fixture
def today(settings) -> dt.date:
    return dt.datetime.now(ZoneInfo(settings.timezone)).date()


@pytest.fixture
def late_slot(db, today):
    """A 45+ window today at the worker's center that is open until 23:59 (walk-ins)."""
    with db.write() as session:
        center = session.scalar(select(Center).where(Center.code == CENTER_CODE))
        slot = Slot(center_id=center.id, date=today, start_time=dt.time(17),
                    end_time=dt.time(23, 59), age_group="45+", capacity=2, booked=0)
        session.add(slot)
        session.flush()
        return slot.id


def book_today(db, today, name: str, phone: str = "+919811100001", code: str = CENTER_CODE,
               ) -> str:
    """Register ``name`` (45+) and book today's first 45+ window at center ``code``."""
    person = beneficiaries.NewBeneficiary(phone=phone, name=name, birth_year=1950, gender="F",
                                          id_type="aadhaar", id_last4="1234",
                                          pincode="800020")
    with db.write() as session:
        found, _ = beneficiaries.register(session, person, today=today, min_age=18, cap=4)
        slot = session.scalar(select(Slot).join(Center).where(
            Center.code == code, Slot.date == today, Slot.age_group == "45+")
            .order_by(Slot.start_time))
        return appointments.book(session, found.id, slot.id, today=today).reference
