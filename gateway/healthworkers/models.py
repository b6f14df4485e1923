"""SQL tables of health workers and their audit trail (imported by gateway.storage)."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import DateTime, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from gateway.storage.models import Base, utcnow


class HealthWorker(Base):
    """An ASHA/ANM worker: registers and vaccinates people at one center, with a PIN."""

    __tablename__ = "health_workers"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(60))
    phone: Mapped[str] = mapped_column(String(16), unique=True)
    center_id: Mapped[int] = mapped_column(ForeignKey("centers.id"), index=True)
    district: Mapped[str] = mapped_column(String(40))
    pin_hash: Mapped[str | None] = mapped_column(String(200))  # None until first use
    failed_pins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow)


class HealthWorkerAction(Base):
    """One thing a health worker did: who, from which phone, when, through which channel."""

    __tablename__ = "health_worker_actions"

    id: Mapped[int] = mapped_column(primary_key=True)
    worker_id: Mapped[int] = mapped_column(ForeignKey("health_workers.id"), index=True)
    phone: Mapped[str] = mapped_column(String(16))
    channel: Mapped[str] = mapped_column(String(12))  # ussd, sms, api, cli
    action: Mapped[str] = mapped_column(String(32))  # register, book, vaccinated, no_show...
    subject: Mapped[str] = mapped_column(String(40), default="")  # reference / beneficiary id
    detail: Mapped[str] = mapped_column(String(200), default="")
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
