"""Worker and cron entry points: ``main(settings)`` and ``cron_main(settings)``.

``main`` runs an RQ ``SimpleWorker`` on the queues ``otp``, ``notify``, ``bulk`` (drained in
that order, so an OTP never waits behind bulk reminders), with RQ's scheduler (for
``Retry`` back-off) and, unless ``cron=False``, a thread that enqueues the sweeper every
``sms.sweep_interval_seconds``. SimpleWorker runs jobs in-process: one SmsContext (DB pool,
SDK clients) per worker instead of one per forked job; every provider call has its own
timeout and RQ's job timeout bounds the rest. Scale out by starting more workers.

``cron_main`` runs RQ 3's CronScheduler alone (for a dedicated cron process); the same
schedule is in ``workers/cron_config.py`` for ``rq cron workers.cron_config``.
"""
from __future__ import annotations

import logging
import threading

import redis
from rq import SimpleWorker
from rq.cron import CronScheduler

from gateway.config import Settings
from gateway.reminders import jobs as reminder_jobs
from gateway.sms.dispatch import SmsContext
from gateway.sms.outbox import QUEUES
from gateway.storage import Database
from gateway.upstream import jobs as upstream_jobs
from workers import jobs

log = logging.getLogger("vaxgate.worker")
CRON_LOCK = "vaxgate:sms:cron-lock"
SWEEP_QUEUE = "otp"


def build_context(settings: Settings, redis_conn: redis.Redis | None = None) -> SmsContext:
    """The SmsContext for this process, installed for the job functions."""
    conn = redis_conn or redis.Redis.from_url(settings.redis_url)
    ctx = SmsContext.build(settings, Database(settings.database_url), conn)
    jobs.install(ctx)
    return ctx


def main(settings: Settings, *, burst: bool = False, cron: bool = True,
         redis_conn: redis.Redis | None = None, logging_level: str = "INFO") -> None:
    """Run one SMS worker until stopped (or until the queues are empty with ``burst``)."""
    ctx = build_context(settings, redis_conn)
    stop = threading.Event()
    if cron:
        threading.Thread(target=_cron_loop, args=(ctx, stop), daemon=True,
                         name="vaxgate-sms-cron").start()
    try:
        SimpleWorker(list(QUEUES), connection=ctx.redis).work(
            burst=burst, with_scheduler=True, logging_level=logging_level)
    finally:
        stop.set()


def cron_scheduler(settings: Settings, redis_conn: redis.Redis) -> CronScheduler:
    """RQ's CronScheduler with the sweeper registered."""
    scheduler = CronScheduler(connection=redis_conn, name="vaxgate-sms")
    scheduler.register(jobs.sweep, SWEEP_QUEUE, interval=settings.sms.sweep_interval_seconds,
                       result_ttl=60)
    if settings.admission.max_active_sessions:
        scheduler.register(jobs.release_turns, "otp",
                           interval=settings.admission.release_interval_seconds, result_ttl=60)
    scheduler.register(upstream_jobs.sweep, settings.upstream.queue,
                       interval=settings.upstream.sweep_interval_seconds, result_ttl=60)
    reminder_jobs.register(scheduler, settings.sms.sweep_interval_seconds)
    return scheduler


def cron_main(settings: Settings) -> None:
    """Run the cron scheduler in the foreground (handles SIGTERM itself)."""
    cron_scheduler(settings, redis.Redis.from_url(settings.redis_url)).start()


def _cron_loop(ctx: SmsContext, stop: threading.Event) -> None:
    """In-worker cron: enqueue the sweeper once per interval across all workers (Redis lock)."""
    interval = ctx.settings.sms.sweep_interval_seconds
    scheduler = cron_scheduler(ctx.settings, ctx.redis)
    while not stop.is_set():
        try:
            if ctx.redis.set(CRON_LOCK, 1, nx=True, ex=interval):
                scheduler.enqueue_jobs()
        except redis.RedisError:
            log.warning("cron: Redis unavailable; will try again")
        stop.wait(min(interval, 5))
