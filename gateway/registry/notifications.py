"""The SMS a person gets when their appointment is booked, cancelled or rescheduled.

The ledger row is written inside the booking's own transaction (so a booking and its
confirmation commit or roll back together); the send job is enqueued after commit. If
Redis is down at that moment, the SMS sweeper finds the row still ``queued`` and enqueues it.
"""
from __future__ import annotations

import logging
from collections.abc import Callable

from sqlalchemy.orm import Session

from gateway.sms import outbox, templates
from gateway.sms.budget import Budget
from gateway.storage import Appointment
from gateway.storage.ledger import MessageKind

log = logging.getLogger(__name__)

TEMPLATE_FOR_EVENT = {"booked": "booking_confirmed", "cancelled": "booking_cancelled",
                      "rescheduled": "booking_rescheduled"}


def record_appointment_sms(session: Session, event: str, appointment: Appointment,
                           lang: str, budget: Budget | None) -> int:
    """Write the confirmation SMS for ``event`` to the ledger; return the message id.

    Idempotent per (appointment, event): a retried request records nothing new.
    ``budget``: the phone's SMS budget (None: a health worker booked, see outbox).
    """
    slot = appointment.slot
    body = templates.render(TEMPLATE_FOR_EVENT[event], lang, reference=appointment.reference,
                            center=slot.center.name, date=slot.date,
                            window=(slot.start_time, slot.end_time))
    message = outbox.record_message(
        session, phone=appointment.beneficiary.phone, kind=MessageKind.CONFIRMATION,
        body=body, lang=lang, dedupe_key=f"appointment:{appointment.id}:{event}", budget=budget,
        fresh=event != "cancelled")  # booked, rescheduled: a row this transaction inserted
    return message.id


def enqueue_after_commit(enqueue: Callable[[list[int]], object], message_ids: list[int]) -> None:
    """Enqueue the send jobs; a Redis failure is logged and left to the sweeper."""
    if not message_ids:
        return
    try:
        enqueue(message_ids)
    except Exception as exc:  # noqa: BLE001 - the ledger row is safe; the sweeper retries
        log.warning("could not enqueue SMS %s now (%s); the sweeper will", message_ids, exc)
