"""Vaccinations done on paper, recorded once the registry is back.

A paper vaccination gets an appointment in a "paper" slot of its center and day (00:00 to
23:59, capacity grown by one with each record), so it is counted like any other without
touching the capacity of real windows. Recorded once per person and dose.
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from gateway.registry import outbox as upstream_events
from gateway.registry.appointments import new_reference
from gateway.registry.beneficiaries import age_group
from gateway.storage.models import (
    Appointment,
    AppointmentEvent,
    AppointmentStatus,
    Beneficiary,
    Center,
    Slot,
)

VACCINATED = AppointmentStatus.VACCINATED.value
PAPER_START, PAPER_END = dt.time(0, 0), dt.time(23, 59)


def record_vaccination(session: Session, person: Beneficiary, center: Center, day: dt.date,
                       dose: int, channel: str) -> bool:
    """Record the dose unless it is already recorded; True if a new record was written."""
    if session.scalar(select(Appointment.id).where(
            Appointment.beneficiary_id == person.id, Appointment.dose == dose,
            Appointment.status == VACCINATED)):
        return False
    slot = _paper_slot(session, center, day, age_group(person.birth_year, day))
    session.execute(update(Slot).where(Slot.id == slot.id).values(
        capacity=Slot.capacity + 1, booked=Slot.booked + 1)
        .execution_options(synchronize_session=False))
    appointment = _insert(session, person.id, slot.id, dose, channel)
    upstream_events.record_appointment(session, appointment, VACCINATED, source="paper")
    return True


def _paper_slot(session: Session, center: Center, day: dt.date, group: str) -> Slot:
    query = select(Slot).where(Slot.center_id == center.id, Slot.date == day,
                               Slot.start_time == PAPER_START, Slot.age_group == group)
    slot = session.scalar(query)
    if slot is None:
        slot = Slot(center_id=center.id, date=day, start_time=PAPER_START, end_time=PAPER_END,
                    age_group=group, vaccine="PAPER", capacity=0, booked=0)
        session.add(slot)
        session.flush()
    return slot


def _insert(session: Session, beneficiary_id: int, slot_id: int, dose: int,
            channel: str) -> Appointment:
    for _ in range(5):
        appointment = Appointment(reference=new_reference(), beneficiary_id=beneficiary_id,
                                  slot_id=slot_id, status=VACCINATED, dose=dose,
                                  channel=channel)
        try:
            with session.begin_nested():
                session.add(appointment)
                session.add(AppointmentEvent(appointment=appointment, status=VACCINATED,
                                             channel=channel, note="recorded from paper"))
                session.flush()
            return appointment
        except IntegrityError:
            continue  # reference clash: draw another
    raise RuntimeError("could not find a free appointment reference")
