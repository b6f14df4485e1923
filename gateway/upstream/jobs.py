"""RQ job functions for upstream sync; they carry a beneficiary id, SQL has the rest.

They run in the SMS worker (``vaxgate worker``, queue ``upstream.queue``) and use its
process context (settings, database, Redis) from ``workers.jobs``.
"""
from __future__ import annotations

from gateway.upstream import delivery, sweeper


def _context():
    from workers.jobs import context

    return context()


def deliver(beneficiary_id: int) -> int:
    """Send one person's pending events in order (raises to make RQ retry)."""
    return delivery.deliver(_context(), beneficiary_id)


def sweep() -> dict[str, int]:
    """Enqueue every person with due events; mark events not required without an upstream."""
    return sweeper.sweep(_context())
