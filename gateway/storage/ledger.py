"""The SMS ledger: every outbound message and every attempt to send it.

A message row is written *before* anything is enqueued, so SQL always knows what was
accepted; the RQ job only carries the row id. ``dedupe_key`` makes the same logical message
(e.g. the confirmation for appointment 42) impossible to record twice.
"""
from __future__ import annotations

import datetime as dt
from enum import Enum

from sqlalchemy import Boolean, DateTime, ForeignKey, Index, Integer, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from gateway.storage.models import Base, utcnow
from gateway.text.i18n import DEFAULT_LANGUAGE


class MessageKind(str, Enum):
    OTP = "otp"
    CONFIRMATION = "confirmation"
    REMINDER = "reminder"
    NOTICE = "notice"


class MessageStatus(str, Enum):
    QUEUED = "queued"
    SENDING = "sending"  # claimed by a worker; the sweeper re-queues it if the worker died
    SENT = "sent"  # accepted by a provider, no delivery report yet
    DELIVERED = "delivered"
    FAILED = "failed"
    UNDELIVERED = "undelivered"
    EXPIRED = "expired"


class AttemptOutcome(str, Enum):
    ACCEPTED = "accepted"
    RETRYABLE = "retryable"
    PERMANENT = "permanent"
    SKIPPED = "skipped"  # not tried: circuit open or rate limit spent (error_code says which)


class Verdict(str, Enum):
    """What a delivery report means for the message (tables in ``gateway/sms/reports.py``)."""

    PENDING = "pending"  # still on its way: a later report will follow
    DELIVERED = "delivered"
    FINAL = "final"  # nobody can deliver it (bad number, opted out): never re-sent
    RETRY_SAME = "retry_same"  # this provider may deliver it on a later try
    FAIL_OVER = "fail_over"  # another provider may deliver it; this one is not used again


FINAL_STATUSES = frozenset({MessageStatus.DELIVERED, MessageStatus.FAILED,
                            MessageStatus.UNDELIVERED, MessageStatus.EXPIRED})


class Message(Base):
    """One outbound SMS, from acceptance to its last delivery report."""

    __tablename__ = "sms_messages"
    __table_args__ = (Index("ix_sms_messages_status_updated", "status", "updated_at"),
                      Index("ix_sms_messages_status_kind_next", "status", "kind",
                            "next_attempt_at"),
                      Index("ix_sms_messages_created_at", "created_at"))  # the day's count

    id: Mapped[int] = mapped_column(primary_key=True)
    dedupe_key: Mapped[str] = mapped_column(String(120), unique=True)
    phone: Mapped[str] = mapped_column(String(16), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    body: Mapped[str] = mapped_column(Text)
    lang: Mapped[str] = mapped_column(String(5), default=DEFAULT_LANGUAGE)
    encoding: Mapped[str] = mapped_column(String(5))
    segments: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(12), default=MessageStatus.QUEUED.value)
    status_reason: Mapped[str] = mapped_column(String(200), default="")
    provider: Mapped[str | None] = mapped_column(String(32))
    provider_message_id: Mapped[str | None] = mapped_column(String(64))
    resends: Mapped[int] = mapped_column(Integer, default=0)
    # the SMS template (gateway/sms/templates.yaml) and its registered DLT id, if any
    template: Mapped[str | None] = mapped_column(String(40))
    dlt_template_id: Mapped[str | None] = mapped_column(String(30))
    # a re-send tries this provider last: it just failed this message or its predecessor
    try_last: Mapped[str | None] = mapped_column(String(32))
    expires_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    # a queued message is not claimed before this (its retry schedule; None: at once)
    next_attempt_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    retries: Mapped[int] = mapped_column(Integer, default=0, server_default="0")  # failed rounds
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    sent_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    delivered_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))

    attempts: Mapped[list[SendAttempt]] = relationship(
        back_populates="message", order_by="SendAttempt.id")


class SendAttempt(Base):
    """One try of one provider for one message; only its delivery report is filled in later."""

    __tablename__ = "sms_send_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("sms_messages.id"), index=True)
    provider: Mapped[str] = mapped_column(String(32))
    outcome: Mapped[str] = mapped_column(String(12))
    error_code: Mapped[str] = mapped_column(String(40), default="")
    error: Mapped[str] = mapped_column(String(200), default="")
    provider_message_id: Mapped[str | None] = mapped_column(String(64), index=True)
    latency_ms: Mapped[int] = mapped_column(Integer, default=0)
    # a status callback was asked for: only then does a missing report mean "re-send"
    report_requested: Mapped[bool] = mapped_column(Boolean, default=False,
                                                   server_default=false())
    report_verdict: Mapped[str | None] = mapped_column(String(12))  # a Verdict, once reported
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    message: Mapped[Message] = relationship(back_populates="attempts")


class SandboxMessage(Base):
    """What the ``sandbox`` provider "sent": the phone simulator's SMS inbox."""

    __tablename__ = "sms_sandbox_inbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    phone: Mapped[str] = mapped_column(String(16), index=True)
    body: Mapped[str] = mapped_column(Text)
    provider_message_id: Mapped[str] = mapped_column(String(64), unique=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
