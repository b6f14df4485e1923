"""Booking, cancelling and rescheduling appointments — never more than a slot's capacity.

A place is taken with one conditional statement,
``UPDATE slots SET booked = booked + 1 WHERE id = :id AND booked < capacity``,
checked by its row count, in the same transaction as the appointment row. Whatever the
concurrency, across processes and on SQLite or PostgreSQL, a slot cannot be overbooked;
the table's CHECK constraint is a second guard.

On a rush every caller of a center wants the same few slot rows, and that UPDATE holds its
row's lock until the transaction commits; so the USSD confirm (``book(...,
take_place_later=True)`` then :func:`take_place`) writes everything else first and takes
the place last, holding the hot row for two round trips (the UPDATE and the COMMIT).
"""
from __future__ import annotations

import datetime as dt
import secrets

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from gateway.registry import hooks
from gateway.registry import outbox as upstream_events
from gateway.registry.beneficiaries import age_group
from gateway.registry.errors import AlreadyBooked, NotFound, SlotFull, WrongAgeGroup
from gateway.storage import (
    Appointment,
    AppointmentEvent,
    AppointmentStatus,
    Beneficiary,
    Center,
    Slot,
    attach,
    prepared,
)
from gateway.storage.fast_read import FastRead, attach_row, columns_of
from gateway.storage.models import utcnow

# No 0/O, 1/I/L, 5/S or 8/B: read aloud or copied from a small screen without mistakes.
REFERENCE_ALPHABET = "234679ACDEFGHJKMNPQRTUVWXYZ"
REFERENCE_LENGTH = 6
BOOKED = AppointmentStatus.BOOKED.value


def new_reference() -> str:
    """A random, human-friendly appointment reference such as ``K7QP3M``."""
    return "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(REFERENCE_LENGTH))


def active_appointment(session: Session, beneficiary_id: int) -> Appointment | None:
    return session.scalar(select(Appointment).where(
        Appointment.beneficiary_id == beneficiary_id, Appointment.status == BOOKED))


def book(session: Session, beneficiary_id: int, slot_id: int, *, today: dt.date,
         channel: str = "ussd", place_taken: bool = False, take_place_later: bool = False,
         phone: str | None = None) -> Appointment:
    """Take one place in ``slot_id`` for the beneficiary. Raises SlotFull, AlreadyBooked...

    ``place_taken``: the place is already counted (a waitlist hold being claimed).
    ``take_place_later``: the caller calls :func:`take_place` as the transaction's last
    statement (until then the appointment row holds no place).
    ``phone``: the beneficiary must be registered on it (NotFound otherwise).
    The returned appointment has its beneficiary, slot and center loaded (no lazy loads
    inside the write transaction); ``slot.booked`` is the count this booking left.
    """
    beneficiary, slot = _person_and_slot(session, beneficiary_id, slot_id)
    if beneficiary is None or slot is None or (phone and beneficiary.phone != phone):
        raise NotFound("beneficiary or slot does not exist")
    person_group = age_group(beneficiary.birth_year, today)
    if slot.age_group != person_group:
        raise WrongAgeGroup(slot.age_group, person_group)
    if not place_taken and slot.booked >= slot.capacity:
        raise SlotFull(slot_id)  # full when read: no write, no lock (the UPDATE decides)
    # An active booking of the same person is refused by the unique index on active
    # appointments when the row is inserted (AlreadyBooked); the caller's transaction or
    # savepoint then rolls the place back: no SELECT on the way of every booking.
    if not (place_taken or take_place_later):
        set_committed_value(slot, "booked", slot.capacity - _take_place(session, slot_id))
    appointment = _insert_appointment(session, beneficiary_id, slot_id, channel)
    set_committed_value(appointment, "beneficiary", beneficiary)  # known: no SELECT
    set_committed_value(appointment, "slot", slot)
    upstream_events.record_appointment(session, appointment, "booked")
    return appointment


def take_place(session: Session, appointment: Appointment) -> None:
    """Count ``appointment``'s place in its slot (SlotFull if none is left: roll back);
    the last statement of a ``book(..., take_place_later=True)`` transaction."""
    slot = appointment.slot
    set_committed_value(slot, "booked", slot.capacity - _take_place(session, slot.id))


_PERSON_AND_SLOT = FastRead(
    select(*columns_of(Beneficiary, Slot, Center))
    .join_from(Beneficiary, Slot, Slot.id == bindparam("slot_id"))
    .join(Center, Slot.center_id == Center.id)
    .where(Beneficiary.id == bindparam("beneficiary_id")))


def _person_and_slot(session: Session, beneficiary_id: int,
                     slot_id: int) -> tuple[Beneficiary | None, Slot | None]:
    """The beneficiary and the slot (with its center) in one query; (None, None) if either
    does not exist."""
    row = _PERSON_AND_SLOT.first(session, beneficiary_id=beneficiary_id, slot_id=slot_id)
    if row is None:
        return None, None
    beneficiary, slot, center = attach_row(session, (Beneficiary, Slot, Center), row)
    set_committed_value(slot, "center", center)
    return beneficiary, slot


def cancel(session: Session, appointment_id: int, *, phone: str | None = None,
           channel: str = "ussd", status: AppointmentStatus = AppointmentStatus.CANCELLED,
           ) -> Appointment:
    """Cancel an active appointment and give its place back. ``phone`` scopes to the owner."""
    appointment = session.scalar(select(Appointment).join(Beneficiary).where(
        Appointment.id == appointment_id, Appointment.status == BOOKED,
        *([Beneficiary.phone == phone] if phone else [])).with_for_update())
    if appointment is None:
        raise NotFound(f"no active appointment {appointment_id}")
    session.execute(update(Slot).where(Slot.id == appointment.slot_id, Slot.booked > 0)
                    .values(booked=Slot.booked - 1))
    appointment.status = status.value
    session.add(AppointmentEvent(appointment=appointment, status=status.value, channel=channel))
    session.flush()
    hooks.appointment_withdrawn(session, appointment.id)  # no stale reminder for it
    upstream_events.record_appointment(session, appointment, status.value)
    return appointment


def reschedule(session: Session, appointment_id: int, new_slot_id: int, *, today: dt.date,
               phone: str | None = None, channel: str = "ussd") -> Appointment:
    """Move an appointment to another slot in one transaction.

    The old place is released and the new one taken together; if the new slot is full the
    caller's transaction rolls back and the old appointment stands untouched.
    """
    old = cancel(session, appointment_id, phone=phone, channel=channel,
                 status=AppointmentStatus.RESCHEDULED)
    new = book(session, old.beneficiary_id, new_slot_id, today=today, channel=channel)
    session.add(AppointmentEvent(appointment=new, status=BOOKED, channel=channel,
                                 note=f"rescheduled from {old.reference}"))
    return new


def list_for_phone(session: Session, phone: str) -> list[Appointment]:
    """Active appointments of everyone registered on ``phone``, soonest first."""
    return list(session.scalars(
        select(Appointment).join(Beneficiary).join(Slot, Appointment.slot_id == Slot.id)
        .where(Beneficiary.phone == phone, Appointment.status == BOOKED)
        .order_by(Slot.date, Slot.start_time)))


def booked_since(session: Session, phone: str, since: dt.datetime) -> Appointment | None:
    """The newest active appointment on ``phone`` booked at or after ``since``, or None."""
    return session.scalar(
        select(Appointment).join(Beneficiary)
        .where(Beneficiary.phone == phone, Appointment.status == BOOKED,
               Appointment.created_at >= since)
        .order_by(Appointment.created_at.desc()).limit(1))


_SLOTS = Slot.__table__.c
_TAKE_PLACE = (update(Slot.__table__)
               .where(_SLOTS.id == bindparam("slot"), _SLOTS.booked < _SLOTS.capacity)
               .values(booked=_SLOTS.booked + 1).returning(_SLOTS.capacity - _SLOTS.booked))


def _take_place(session: Session, slot_id: int) -> int:
    """Take one place; return how many are left (the slot's row as this UPDATE left it).
    A Core statement: the ORM's bulk UPDATE path costs more than the SQL."""
    left = session.connection().execute(_TAKE_PLACE, {"slot": slot_id}).scalar_one_or_none()
    if left is None:
        raise SlotFull(slot_id)
    return left


def _insert_appointment(session: Session, beneficiary_id: int, slot_id: int,
                        channel: str) -> Appointment:
    """Insert the appointment and its first status row with Core statements (the ORM's unit
    of work and a savepoint cost more than the SQL). ``ON CONFLICT DO NOTHING`` answers both
    unique rules without aborting the transaction: a reference already taken (draw again)
    and an active booking of the same person (AlreadyBooked)."""
    connection, now = session.connection(), utcnow()
    for _ in range(5):
        row = {"reference": new_reference(), "beneficiary_id": beneficiary_id,
               "slot_id": slot_id, "status": BOOKED, "dose": 1, "channel": channel,
               "created_at": now, "updated_at": now}
        row["id"] = connection.execute(prepared(session, _add_appointment), row).scalar()
        if row["id"] is not None:
            connection.execute(_INSERT_STATUS_ROW, {"appointment_id": row["id"],
                                                    "status": BOOKED, "note": "",
                                                    "channel": channel, "at": now})
            return attach(session, Appointment, row)
        clash = active_appointment(session, beneficiary_id)
        if clash:  # a concurrent request booked this person first
            raise AlreadyBooked(clash.reference)
    raise RuntimeError("could not find a free appointment reference")


def _add_appointment(insert):
    table = Appointment.__table__
    return insert(table).on_conflict_do_nothing().returning(table.c.id)


_INSERT_STATUS_ROW = insert(AppointmentEvent.__table__)


def district_phones(district: str, state: str | None = None):
    """A subquery: the phones of people with an appointment at a center in ``district`` (of
    ``state`` when given: five district names exist in two states)."""
    phones = (select(Beneficiary.phone).join(Appointment, Appointment.beneficiary_id ==
                                             Beneficiary.id)
              .join(Slot, Slot.id == Appointment.slot_id)
              .join(Center, Center.id == Slot.center_id)
              .where(Center.district == district))
    return phones.where(Center.state == state) if state else phones
