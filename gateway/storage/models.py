"""SQLAlchemy models for the registry: phones, beneficiaries, centers, slots, appointments.

Times are stored in UTC. A slot's ``date``/``start_time``/``end_time`` are the center's
local wall-clock values (the configured time zone), as printed on the day list.
"""
from __future__ import annotations

import datetime as dt
from enum import Enum

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    Time,
    UniqueConstraint,
    text,
    true,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from gateway.text.i18n import DEFAULT_LANGUAGE


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


# ids are SQL INTEGER columns: a larger id in a URL or a document is a 404, not a 500
SQL_INTEGER_MAX = 2**31 - 1


class Base(DeclarativeBase):
    pass


class AppointmentStatus(str, Enum):
    BOOKED = "booked"
    CANCELLED = "cancelled"
    RESCHEDULED = "rescheduled"
    VACCINATED = "vaccinated"
    NO_SHOW = "no_show"


class PhoneProfile(Base):
    """What we remember about a phone number: its chosen language."""

    __tablename__ = "phone_profiles"

    phone: Mapped[str] = mapped_column(String(16), primary_key=True)
    language: Mapped[str] = mapped_column(String(5))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow)


class Beneficiary(Base):
    """A person registered for vaccination; up to N share one mobile number."""

    __tablename__ = "beneficiaries"
    __table_args__ = (UniqueConstraint("phone", "name_key", "birth_year",
                                       name="uq_beneficiary_person"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    phone: Mapped[str] = mapped_column(String(16), index=True)
    name: Mapped[str] = mapped_column(String(60))
    name_key: Mapped[str] = mapped_column(String(60))
    birth_year: Mapped[int] = mapped_column(Integer)
    gender: Mapped[str] = mapped_column(String(1))
    id_type: Mapped[str] = mapped_column(String(16))
    id_last4: Mapped[str] = mapped_column(String(4))
    pincode: Mapped[str] = mapped_column(String(6), index=True)
    language: Mapped[str] = mapped_column(String(5), default=DEFAULT_LANGUAGE)
    channel: Mapped[str] = mapped_column(String(12), default="ussd")
    # A name spoken on an IVR call: the recording, and False until staff confirm the name.
    name_recording_url: Mapped[str | None] = mapped_column(String(500), nullable=True)
    name_confirmed: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    appointments: Mapped[list[Appointment]] = relationship(back_populates="beneficiary")


class Center(Base):
    """A vaccination center (PHC, CHC, district hospital, school camp...)."""

    __tablename__ = "centers"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    name: Mapped[str] = mapped_column(String(80))
    state: Mapped[str] = mapped_column(String(40))
    district: Mapped[str] = mapped_column(String(40), index=True)
    pincode: Mapped[str] = mapped_column(String(6), index=True)
    address: Mapped[str] = mapped_column(Text, default="")
    active: Mapped[bool] = mapped_column(default=True)
    # where it is, for "nearest by km": its PIN code's point (gateway/geo) or an admin's
    latitude: Mapped[float | None] = mapped_column(Float, nullable=True)
    longitude: Mapped[float | None] = mapped_column(Float, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    slots: Mapped[list[Slot]] = relationship(back_populates="center")


class Slot(Base):
    """Places at a center on a date, in a time window, for an age group."""

    __tablename__ = "slots"
    __table_args__ = (
        UniqueConstraint("center_id", "date", "start_time", "age_group", name="uq_slot"),
        CheckConstraint("booked >= 0 AND booked <= capacity", name="ck_slot_not_overbooked"),
        Index("ix_slots_date_center", "date", "center_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    center_id: Mapped[int] = mapped_column(ForeignKey("centers.id"))
    date: Mapped[dt.date] = mapped_column(Date)
    start_time: Mapped[dt.time] = mapped_column(Time)
    end_time: Mapped[dt.time] = mapped_column(Time)
    age_group: Mapped[str] = mapped_column(String(8))
    vaccine: Mapped[str] = mapped_column(String(20), default="COVISHIELD")
    capacity: Mapped[int] = mapped_column(Integer)
    booked: Mapped[int] = mapped_column(Integer, default=0)

    center: Mapped[Center] = relationship(back_populates="slots")

    @property
    def free(self) -> int:
        return self.capacity - self.booked


class Appointment(Base):
    """A booking of one beneficiary into one slot. At most one is active per person."""

    __tablename__ = "appointments"
    __table_args__ = (
        Index("uq_active_appointment", "beneficiary_id", unique=True,
              sqlite_where=text("status = 'booked'"),
              postgresql_where=text("status = 'booked'")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(10), unique=True)
    beneficiary_id: Mapped[int] = mapped_column(ForeignKey("beneficiaries.id"), index=True)
    slot_id: Mapped[int] = mapped_column(ForeignKey("slots.id"), index=True)
    status: Mapped[str] = mapped_column(String(12), default=AppointmentStatus.BOOKED.value)
    dose: Mapped[int] = mapped_column(Integer, default=1)
    channel: Mapped[str] = mapped_column(String(12), default="ussd")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow)

    beneficiary: Mapped[Beneficiary] = relationship(back_populates="appointments")
    slot: Mapped[Slot] = relationship()
    events: Mapped[list[AppointmentEvent]] = relationship(
        back_populates="appointment", order_by="AppointmentEvent.id")


class AppointmentEvent(Base):
    """The status history of an appointment: one row per change, never updated."""

    __tablename__ = "appointment_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    appointment_id: Mapped[int] = mapped_column(ForeignKey("appointments.id"), index=True)
    status: Mapped[str] = mapped_column(String(12))
    note: Mapped[str] = mapped_column(String(200), default="")
    channel: Mapped[str] = mapped_column(String(12), default="ussd")
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    appointment: Mapped[Appointment] = relationship(back_populates="events")
