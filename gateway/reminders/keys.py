"""Ledger dedupe keys of reminders, and withdrawing the unsent ones of a cancelled booking.

``reminder:<appointment id>:<offset minutes>`` makes each (appointment, offset) reminder one
ledger row however often the sweeper runs; ``reminder:<id>:resend<n>`` are the re-sends
ordered from the district report (at most ``MAX_RESENDS``).
"""
from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from gateway.reminders.models import ReminderWatermark
from gateway.storage.ledger import Message, MessageStatus
from gateway.storage.models import utcnow

MAX_RESENDS = 3
WITHDRAWN_REASON = "appointment cancelled or moved"


def reminder_key(appointment_id: int, offset_minutes: int) -> str:
    return f"reminder:{appointment_id}:{offset_minutes}"


def resend_key(appointment_id: int, number: int) -> str:
    return f"reminder:{appointment_id}:resend{number}"


def all_keys(appointment_id: int, offsets: list[int]) -> list[str]:
    """Every key a reminder of this appointment can have."""
    return ([reminder_key(appointment_id, o) for o in offsets]
            + [resend_key(appointment_id, n) for n in range(1, MAX_RESENDS + 1)])


def withdraw(session: Session, appointment_id: int) -> int:
    """Expire the reminders of an appointment that are recorded but not yet sent.

    Called when the appointment is cancelled or rescheduled, in the same transaction, so a
    reminder waiting in the bulk queue is never sent for a booking that no longer stands
    (the worker only sends ``queued`` rows). Returns how many were withdrawn.
    """
    offsets = list(session.scalars(select(ReminderWatermark.offset_minutes)))
    result = session.execute(
        update(Message).where(Message.dedupe_key.in_(all_keys(appointment_id, offsets)),
                              Message.status == MessageStatus.QUEUED.value)
        .values(status=MessageStatus.EXPIRED.value, status_reason=WITHDRAWN_REASON,
                updated_at=utcnow()).execution_options(synchronize_session=False))
    return result.rowcount
