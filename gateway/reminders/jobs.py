"""RQ cron jobs: plan due reminders, and run the waitlist (release holds, offer places).

They run in the SMS worker on the ``notify`` queue (short jobs that must not wait behind a
bulk backlog) and use its process context (gateway/sms/context.py). The reminders they create
go on the ``bulk`` queue, the waitlist offers on ``notify``; OTPs are always drained first.
"""
from __future__ import annotations

from gateway.reminders import sweeper, waitlist
from gateway.sms import outbox
from gateway.sms.context import context

QUEUE = "notify"


def plan_reminders() -> dict[str, int]:
    """Create every due reminder in the ledger (exactly once) and enqueue it on ``bulk``."""
    ctx = context()
    return sweeper.sweep_reminders(ctx.db, ctx.settings, enqueue=lambda ids: (
        outbox.enqueue_messages(ctx.queue_redis, ids, queue="bulk", settings=ctx.settings.sms)))


def run_waitlist() -> int:
    """Give back expired holds and offer free places, first come first served."""
    ctx = context()
    offers = waitlist.run(ctx.db, ctx.settings)
    outbox.enqueue_messages(ctx.queue_redis, offers, queue="notify", settings=ctx.settings.sms)
    return len(offers)
