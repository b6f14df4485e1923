"""Tables for reminders, opt-outs and the waitlist (registered on ``Base.metadata``)."""
from __future__ import annotations

import datetime as dt
from enum import Enum

from sqlalchemy import DateTime, ForeignKey, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from gateway.storage.models import Base, utcnow
from gateway.text.i18n import DEFAULT_LANGUAGE


class OptOut(Base):
    """A phone that replied STOP: no reminders or notices until it replies START."""

    __tablename__ = "sms_opt_outs"

    phone: Mapped[str] = mapped_column(String(16), primary_key=True)
    keyword: Mapped[str] = mapped_column(String(20), default="STOP")
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ReminderWatermark(Base):
    """How far (in effective due time) the sweeper has planned one reminder offset."""

    __tablename__ = "reminder_watermarks"

    offset_minutes: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    planned_until: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class WaitlistStatus(str, Enum):
    WAITING = "waiting"
    OFFERED = "offered"  # a place is held for them until hold_expires_at
    BOOKED = "booked"
    LAPSED = "lapsed"  # max_offers unclaimed offers
    WITHDRAWN = "withdrawn"  # booked elsewhere, or no longer eligible


ACTIVE_WAITLIST = (WaitlistStatus.WAITING.value, WaitlistStatus.OFFERED.value)


class WaitlistEntry(Base):
    """One person waiting for a place near their pincode; first come, first served."""

    __tablename__ = "waitlist_entries"
    __table_args__ = (
        Index("uq_waitlist_active", "beneficiary_id", unique=True,
              sqlite_where=text("status IN ('waiting', 'offered')"),
              postgresql_where=text("status IN ('waiting', 'offered')")),
        Index("ix_waitlist_status_queued", "status", "queued_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    beneficiary_id: Mapped[int] = mapped_column(ForeignKey("beneficiaries.id"), index=True)
    phone: Mapped[str] = mapped_column(String(16), index=True)
    pincode: Mapped[str] = mapped_column(String(6))
    age_group: Mapped[str] = mapped_column(String(8))
    lang: Mapped[str] = mapped_column(String(5), default=DEFAULT_LANGUAGE)
    status: Mapped[str] = mapped_column(String(12), default=WaitlistStatus.WAITING.value)
    queued_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    offers: Mapped[int] = mapped_column(Integer, default=0)
    slot_id: Mapped[int | None] = mapped_column(ForeignKey("slots.id"))
    hold_expires_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    appointment_id: Mapped[int | None] = mapped_column(ForeignKey("appointments.id"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
