"""Which providers a re-send of a message may still use.

A provider that accepted the message is not used for it again, so each provider sends it
at most once; the exception is a *retry-same* delivery report (``gateway/sms/reports.py``),
after which that provider may take it once more. The provider a re-send should try last
is kept in ``Message.try_last``: the sweeper sets it to the provider that failed the message,
a district's re-send and an OTP asked for again to the one that failed the one before.
"""
from __future__ import annotations

import datetime as dt
from collections import Counter

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.storage.ledger import AttemptOutcome, Message, MessageStatus, SendAttempt, Verdict


def spent_providers(session: Session, message_id: int) -> frozenset[str]:
    """The providers that may not send message ``message_id`` again."""
    accepted = session.execute(select(SendAttempt.provider, SendAttempt.report_verdict).where(
        SendAttempt.message_id == message_id,
        SendAttempt.outcome == AttemptOutcome.ACCEPTED.value)).all()
    sends = Counter(provider for provider, _ in accepted)
    return frozenset(provider for provider, verdict in accepted
                     if verdict != Verdict.RETRY_SAME.value or sends[provider] > 1)


def unconfirmed_provider(session: Session, phone: str, kind: str,
                         since: dt.datetime) -> str | None:
    """The provider of the newest ``kind`` message to ``phone`` since ``since`` that was
    accepted but not delivered: a new one (the person asked again) tries it last."""
    return session.scalar(select(Message.provider).where(
        Message.phone == phone, Message.kind == kind, Message.created_at >= since,
        Message.provider.is_not(None), Message.status != MessageStatus.DELIVERED.value)
        .order_by(Message.id.desc()).limit(1))
