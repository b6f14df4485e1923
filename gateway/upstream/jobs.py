"""RQ job functions for upstream sync; they carry a beneficiary id, SQL has the rest.

They run in the SMS worker (``vaxgate worker``, queue ``upstream.queue``, default
``upstream``, drained after the SMS queues) and use its process context (settings,
database, Redis; gateway/sms/context.py).
"""
from __future__ import annotations

from gateway.sms.context import context
from gateway.upstream import delivery, sweeper


def deliver(beneficiary_id: int) -> int:
    """Send one person's due events in order (a failure sets the retry time in SQL)."""
    return delivery.deliver(context(), beneficiary_id)


def sweep() -> dict[str, int]:
    """Enqueue every person with due events; mark events not required without an upstream."""
    return sweeper.sweep(context())
