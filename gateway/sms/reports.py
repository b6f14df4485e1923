"""Delivery reports: map a provider's status to ours and apply it to the ledger."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.storage.ledger import FINAL_STATUSES, Message, MessageStatus, SendAttempt
from gateway.storage.models import utcnow

S = MessageStatus
TWILIO_STATUS = {"queued": S.SENT, "accepted": S.SENT, "sending": S.SENT, "sent": S.SENT,
                 "scheduled": S.SENT, "delivered": S.DELIVERED, "read": S.DELIVERED,
                 "undelivered": S.UNDELIVERED, "failed": S.FAILED, "canceled": S.FAILED}
AFRICASTALKING_STATUS = {"sent": S.SENT, "submitted": S.SENT, "buffered": S.SENT,
                         "success": S.DELIVERED, "failed": S.UNDELIVERED,
                         "rejected": S.FAILED, "expired": S.EXPIRED}


def apply_report(session: Session, provider_message_id: str, status: MessageStatus,
                 reason: str = "") -> Message | None:
    """Apply a delivery report; None when no attempt has that provider id (unknown).

    ``delivered`` always wins (a late report from an earlier provider still proves
    delivery). Other final statuses only apply to a message still ``sent`` through that
    very provider id, so a stale report cannot undo a re-send in progress.
    """
    attempt = session.scalar(select(SendAttempt).where(
        SendAttempt.provider_message_id == provider_message_id)
        .order_by(SendAttempt.id.desc()).limit(1))
    if attempt is None:
        return None
    message = attempt.message
    if _applies(message, provider_message_id, status):
        message.status, message.status_reason = status.value, reason[:200]
        message.updated_at = utcnow()
        if status is S.DELIVERED:
            message.delivered_at = message.updated_at
    return message


def _applies(message: Message, provider_message_id: str, status: MessageStatus) -> bool:
    if status is S.DELIVERED:
        return message.status != S.DELIVERED.value
    return (status in FINAL_STATUSES and message.status == S.SENT.value
            and message.provider_message_id == provider_message_id)
