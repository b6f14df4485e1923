"""RQ cron jobs: plan due reminders, and run the waitlist (release holds, offer places).

They run in the SMS worker on the ``notify`` queue (short jobs that must not wait behind a
bulk backlog) and use its process context from ``workers.jobs``. The reminders they create
go on the ``bulk`` queue, the waitlist offers on ``notify``; OTPs are always drained first.
"""
from __future__ import annotations

from gateway.reminders import sweeper, waitlist
from gateway.sms import outbox

QUEUE = "notify"


def _context():
    from workers.jobs import context

    return context()


def plan_reminders() -> dict[str, int]:
    """Create every due reminder in the ledger (exactly once) and enqueue it on ``bulk``."""
    ctx = _context()
    return sweeper.sweep_reminders(ctx.db, ctx.settings, enqueue=lambda ids: (
        outbox.enqueue_messages(ctx.queue_redis, ids, queue="bulk", settings=ctx.settings.sms)))


def run_waitlist() -> int:
    """Give back expired holds and offer free places, first come first served."""
    ctx = _context()
    offers = waitlist.run(ctx.db, ctx.settings)
    outbox.enqueue_messages(ctx.queue_redis, offers, queue="notify", settings=ctx.settings.sms)
    return len(offers)


def register(scheduler, interval: int) -> None:
    """Add both jobs to an RQ CronScheduler (or ``rq.cron``) every ``interval`` seconds."""
    scheduler.register(plan_reminders, QUEUE, interval=interval, result_ttl=60)
    scheduler.register(run_waitlist, QUEUE, interval=interval, result_ttl=60)
