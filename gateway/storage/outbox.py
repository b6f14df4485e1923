"""The upstream outbox table: events the registry writes in its own transactions, for
gateway.upstream to deliver."""
from __future__ import annotations

import datetime as dt
from enum import Enum

from sqlalchemy import DateTime, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from gateway.storage.models import Base, utcnow


class EventStatus(str, Enum):
    PENDING = "pending"  # to be sent (again); next_attempt_at says when
    SENT = "sent"  # the upstream answered 2xx
    PARKED = "parked"  # the upstream refused it (4xx other than 429): a person must act
    NOT_REQUIRED = "not_required"  # no upstream configured when it was swept


class UpstreamEvent(Base):
    """A registration, appointment change or vaccination, written in the change's own
    transaction; ``id`` order is the order the upstream receives a beneficiary's events."""

    __tablename__ = "upstream_events"
    __table_args__ = (Index("ix_upstream_events_status_due", "status", "next_attempt_at"),
                      Index("ix_upstream_events_beneficiary", "beneficiary_id", "id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(64), unique=True)
    beneficiary_id: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(40))
    payload: Mapped[str] = mapped_column(Text)  # JSON
    status: Mapped[str] = mapped_column(String(12), default=EventStatus.PENDING.value)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str] = mapped_column(String(300), default="")
    next_attempt_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    sent_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
