"""Registry helpers for the upstream tests: real registrations and bookings in SQL."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from gateway.registry import appointments, beneficiaries
from gateway.storage import Slot, UpstreamEvent
from workers.worker import Worker

TODAY = dt.date.today()


def register(db, name: str, phone: str = "+919812345678", year: int = 1950) -> int:
    person = beneficiaries.NewBeneficiary(phone=phone, name=name, birth_year=year, gender="F",
                                          id_type="aadhaar", id_last4="1234",
                                          pincode="800020")
    with db.write() as session:
        found, _ = beneficiaries.register(session, person, today=TODAY, min_age=18, cap=4)
        return found.id


def slot_ids(db, age_group: str = "45+", count: int = 2) -> list[int]:
    with db.read() as session:
        return list(session.scalars(select(Slot.id).where(Slot.age_group == age_group)
                                    .order_by(Slot.id).limit(count)))


def book(db, beneficiary_id: int, slot_id: int) -> int:
    with db.write() as session:
        return appointments.book(session, beneficiary_id, slot_id, today=TODAY).id


def events(db) -> list[UpstreamEvent]:
    with db.read() as session:
        return list(session.scalars(select(UpstreamEvent).order_by(UpstreamEvent.id)))


def run_jobs(redis_client, queue: str = "upstream") -> None:
    """Drain the upstream queue in-process, as `vaxgate worker` would (its worker class)."""
    Worker([queue], connection=redis_client).work(burst=True, logging_level="WARNING")
