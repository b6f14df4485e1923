"""What must hold in the database after any request, however hostile: nothing half-written.

- every beneficiary is complete (name, birth year, gender, E.164 phone, 6-digit pincode),
  has its phone's profile row and exactly one ``beneficiary.registered`` upstream event;
- every appointment has its slot, its status history and an upstream event;
- a slot's ``booked`` moves only with its appointments and waitlist holds: the difference
  ``booked - (places taken by appointments) - (places held by offers)`` never changes, and
  ``0 <= booked <= capacity``;
- every message row has a body and a phone.
"""
from __future__ import annotations

import re

from sqlalchemy import func, select

from gateway.reminders.models import WaitlistEntry
from gateway.storage import Appointment, Beneficiary, Database, PhoneProfile, Slot
from gateway.storage.ledger import Message
from gateway.storage.models import AppointmentEvent
from gateway.storage.outbox import UpstreamEvent

PLACE_TAKING = ("booked", "vaccinated", "no_show")
E164 = re.compile(r"^\+[1-9]\d{6,14}$")


def slot_drift(db: Database) -> dict[int, int]:
    """Per slot: booked minus the places its appointments and offers account for."""
    with db.read() as session:
        taken = dict(session.execute(
            select(Appointment.slot_id, func.count()).where(Appointment.status.in_(PLACE_TAKING))
            .group_by(Appointment.slot_id)).all())
        held = dict(session.execute(
            select(WaitlistEntry.slot_id, func.count()).where(WaitlistEntry.status == "offered")
            .group_by(WaitlistEntry.slot_id)).all())
        return {slot_id: booked - taken.get(slot_id, 0) - held.get(slot_id, 0)
                for slot_id, booked in session.execute(select(Slot.id, Slot.booked)).all()}


def counts(db: Database) -> dict[str, int]:
    """Row counts of the tables a webhook may write."""
    with db.read() as session:
        return {model.__tablename__: session.scalar(select(func.count()).select_from(model))
                for model in (Beneficiary, PhoneProfile, Appointment, AppointmentEvent,
                              UpstreamEvent, Message, WaitlistEntry)}


def check_consistent(db: Database, drift_before: dict[int, int]) -> None:
    """Assert every invariant of the module docstring."""
    with db.read() as session:
        _people(session)
        _appointments(session)
        _messages(session)
        bad = session.execute(select(Slot.id, Slot.booked, Slot.capacity).where(
            (Slot.booked < 0) | (Slot.booked > Slot.capacity))).all()
        assert not bad, f"slots outside 0..capacity: {bad}"
    drift = slot_drift(db)
    changed = {s: (drift_before.get(s, 0), d) for s, d in drift.items()
               if d != drift_before.get(s, 0)}
    assert not changed, f"booked counts moved without an appointment or hold: {changed}"


def _people(session) -> None:
    for person in session.scalars(select(Beneficiary)):
        assert person.name.strip() and person.gender in ("M", "F", "O"), person.__dict__
        assert E164.match(person.phone) and re.fullmatch(r"[1-9]\d{5}", person.pincode), \
            person.__dict__
        assert 1900 <= person.birth_year <= 2100, person.__dict__
    orphans = session.scalars(select(Beneficiary.id).where(
        Beneficiary.phone.not_in(select(PhoneProfile.phone)))).all()
    assert not orphans, f"beneficiaries without a phone profile: {orphans}"
    registered = dict(session.execute(
        select(UpstreamEvent.beneficiary_id, func.count())
        .where(UpstreamEvent.kind == "beneficiary.registered")
        .group_by(UpstreamEvent.beneficiary_id)).all())
    ids = set(session.scalars(select(Beneficiary.id)))
    assert set(registered) == ids, (
        f"registered events {sorted(registered)} != beneficiaries {sorted(ids)}")
    assert all(n == 1 for n in registered.values()), registered


def _appointments(session) -> None:
    without_slot = session.scalars(select(Appointment.id).where(
        Appointment.slot_id.not_in(select(Slot.id)))).all()
    assert not without_slot, f"appointments without a slot: {without_slot}"
    without_history = session.scalars(select(Appointment.id).where(
        Appointment.id.not_in(select(AppointmentEvent.appointment_id)))).all()
    assert not without_history, f"appointments without status history: {without_history}"
    told = set(session.scalars(select(UpstreamEvent.beneficiary_id).where(
        UpstreamEvent.kind.like("appointment.%"))))
    untold = set(session.scalars(select(Appointment.beneficiary_id))) - told
    assert not untold, f"appointments of {sorted(untold)} have no upstream event"


def _messages(session) -> None:
    empty = session.scalars(select(Message.id).where(
        (Message.body == "") | (Message.phone == ""))).all()
    assert not empty, f"messages without body or phone: {empty}"
