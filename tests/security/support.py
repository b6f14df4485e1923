"""Data in two districts for the role-scoping and export-audit tests."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select

from gateway.admin.auth import create_user
from gateway.healthworkers import accounts
from gateway.registry import appointments, beneficiaries
from gateway.registry.notifications import record_appointment_sms
from gateway.storage import Center, Slot
from gateway.text.phones import mask_phone
from tests.admin.conftest import PASSWORD

OWN, OTHER = "Patna", "Lucknow"
PEOPLE = {OWN: ("Sita Devi", "+919811100001", "800020"),
          OTHER: ("Ram Kumar", "+919822200002", "226001")}
WORKERS = {OWN: ("Asha Kumari", "+919833300003"), OTHER: ("Meena Verma", "+919844400004")}


@dataclass
class Seeded:
    """Ids and the words that identify each district's records."""

    center_id: dict[str, int]
    center_code: dict[str, str]
    slot_id: dict[str, int]
    worker_id: dict[str, int]
    reference: dict[str, str]
    day: dt.date
    own_words: set[str]
    foreign_words: set[str]


def _book(session, district: str, today: dt.date) -> tuple[Center, Slot, str]:
    name, phone, pincode = PEOPLE[district]
    person, _ = beneficiaries.register(session, beneficiaries.NewBeneficiary(
        phone=phone, name=name, birth_year=1950, gender="F", id_type="aadhaar",
        id_last4="1234", pincode=pincode), today=today, min_age=18, cap=4)
    slot = session.scalar(select(Slot).join(Center).where(
        Center.district == district, Slot.date == today, Slot.age_group == "45+")
        .order_by(Center.id, Slot.start_time))
    appointment = appointments.book(session, person.id, slot.id, today=today)
    record_appointment_sms(session, "booked", appointment, "en", None)
    return slot.center, slot, appointment.reference


def seed_two_districts(db, today: dt.date) -> Seeded:
    """A booked person, their confirmation SMS and a health worker in Patna and in Lucknow
    (the demo centers must be loaded), and a Patna viewer user."""
    ids: dict[str, dict] = {"center": {}, "code": {}, "slot": {}, "worker": {},
                            "reference": {}}
    with db.write() as session:
        for district in (OWN, OTHER):
            center, slot, reference = _book(session, district, today)
            worker = accounts.create(session, name=WORKERS[district][0],
                                     phone=WORKERS[district][1], center_code=center.code)
            ids["center"][district], ids["slot"][district] = center.id, slot.id
            ids["code"][district] = center.code
            ids["worker"][district], ids["reference"][district] = worker.id, reference
        create_user(session, "patna-viewer", PASSWORD, "viewer", OWN)
        centers = session.scalars(select(Center)).all()
        own = {w for c in centers if c.district == OWN for w in (c.code, c.name)}
        foreign = {w for c in centers if c.district != OWN
                   for w in (c.code, c.name, c.district)}
    own |= {ids["reference"][OWN], PEOPLE[OWN][0], WORKERS[OWN][0], mask_phone(PEOPLE[OWN][1])}
    foreign |= {ids["reference"][OTHER], PEOPLE[OTHER][0], WORKERS[OTHER][0],
                PEOPLE[OTHER][1][-10:], WORKERS[OTHER][1][-10:], mask_phone(PEOPLE[OTHER][1])}
    return Seeded(ids["center"], ids["code"], ids["slot"], ids["worker"], ids["reference"],
                  today, own, foreign)
