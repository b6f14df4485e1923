"""Vaccination day at a center: the day list, counts, marking people, walk-ins.

Every change writes its AppointmentEvent and upstream event in the caller's transaction;
a vaccination also records the certificate-notice SMS in the ledger (sent after commit).
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from gateway.healthworkers import texts
from gateway.registry import appointments
from gateway.registry import outbox as upstream_events
from gateway.registry.beneficiaries import age_group
from gateway.registry.errors import NotFound, SlotFull
from gateway.sms import outbox
from gateway.storage.ledger import MessageKind
from gateway.storage.models import (
    Appointment,
    AppointmentEvent,
    AppointmentStatus,
    Beneficiary,
    Slot,
)

BOOKED = AppointmentStatus.BOOKED.value
MARKABLE = {AppointmentStatus.VACCINATED, AppointmentStatus.NO_SHOW}


def day_list(session: Session, center_id: int, day: dt.date, limit: int = 100,
             ) -> list[Appointment]:
    """People still expected at the center on ``day`` (booked), by time window."""
    return list(session.scalars(
        select(Appointment).join(Slot, Appointment.slot_id == Slot.id)
        .where(Slot.center_id == center_id, Slot.date == day, Appointment.status == BOOKED)
        .order_by(Slot.start_time, Appointment.id).limit(limit)))


def day_counts(session: Session, center_id: int, day: dt.date) -> dict[str, int]:
    """How many are still expected, vaccinated and no-show at the center on ``day``."""
    rows = session.execute(
        select(Appointment.status, func.count()).join(Slot, Appointment.slot_id == Slot.id)
        .where(Slot.center_id == center_id, Slot.date == day)
        .group_by(Appointment.status)).all()
    counts = dict(rows)
    return {"expected": counts.get(BOOKED, 0),
            "vaccinated": counts.get(AppointmentStatus.VACCINATED.value, 0),
            "no_show": counts.get(AppointmentStatus.NO_SHOW.value, 0)}


def mark(session: Session, reference: str, status: AppointmentStatus, *, center_id: int,
         channel: str) -> tuple[Appointment, int | None]:
    """Mark a booked appointment at this center vaccinated or no-show, by reference.

    Returns (appointment, certificate SMS id or None). Raises NotFound when no booked
    appointment with that reference is at this center.
    """
    if status not in MARKABLE:
        raise ValueError(f"cannot mark {status}")
    appointment = session.scalar(
        select(Appointment).join(Slot, Appointment.slot_id == Slot.id)
        .where(Appointment.reference == reference.strip().upper(), Slot.center_id == center_id,
               Appointment.status == BOOKED).with_for_update())
    if appointment is None:
        raise NotFound(f"no booked appointment {reference!r} at this center")
    return appointment, _set_status(session, appointment, status, channel)


def _set_status(session: Session, appointment: Appointment, status: AppointmentStatus,
                channel: str) -> int | None:
    appointment.status = status.value
    session.add(AppointmentEvent(appointment=appointment, status=status.value, channel=channel))
    session.flush()
    upstream_events.record_appointment(session, appointment, status.value)
    if status is AppointmentStatus.VACCINATED:
        return record_certificate_sms(session, appointment)
    return None


def record_certificate_sms(session: Session, appointment: Appointment) -> int:
    """The "you are vaccinated; your certificate" notice, once per appointment."""
    person = appointment.beneficiary
    body = texts.certificate(person.language, name=person.name,
                             reference=appointment.reference,
                             date=appointment.slot.date, center=appointment.slot.center.name)
    message = outbox.record_message(session, phone=person.phone, kind=MessageKind.NOTICE,
                                    body=body, lang=person.language,
                                    dedupe_key=f"appointment:{appointment.id}:vaccinated",
                                    budget=None)  # once, when a worker marks the dose
    session.flush()
    return message.id


def open_slots(session: Session, center_id: int, group: str, days: list[dt.date],
               now: dt.datetime, limit: int = 20) -> list[Slot]:
    """Slots at the center for the age group on ``days`` with a free place, not yet over."""
    slots = session.scalars(
        select(Slot).where(Slot.center_id == center_id, Slot.age_group == group,
                           Slot.date.in_(days), Slot.booked < Slot.capacity)
        .order_by(Slot.date, Slot.start_time))
    return [s for s in slots if (s.date, s.end_time) > (now.date(), now.time())][:limit]


def walk_in(session: Session, beneficiary_id: int, *, center_id: int, now: dt.datetime,
            channel: str) -> tuple[Appointment, int | None]:
    """Book today's first open window at the center and mark it vaccinated, together.

    Raises SlotFull when no window today has a place, AlreadyBooked if the person holds
    another booking.
    """
    person = session.get(Beneficiary, beneficiary_id)
    if person is None:
        raise NotFound("no such beneficiary")
    group = age_group(person.birth_year, now.date())
    for slot in open_slots(session, center_id, group, [now.date()], now):
        try:
            with session.begin_nested():
                booked = appointments.book(session, beneficiary_id, slot.id,
                                           today=now.date(), channel=channel)
        except SlotFull:
            continue  # taken meanwhile: try the next window
        return booked, _set_status(session, booked, AppointmentStatus.VACCINATED, channel)
    raise SlotFull(0)
