"""Worker and cron entry points: ``main(settings)`` and ``cron_main(settings)``.

``main`` runs an RQ ``SimpleWorker`` (:class:`Worker`) on the queues ``otp``, ``notify``,
``bulk``, ``upstream`` (drained in that order, so an OTP never waits behind bulk reminders
or registry sync; :func:`worker_queues`), with RQ's scheduler (it wakes the SMS retries,
gateway/sms/retries.py) and, unless ``cron=False``, a thread that enqueues each scheduled
job (sweepers, reminders, waitlist, admission turns) once per its own interval across all
nodes (``workers/cron.py``). SimpleWorker runs jobs in-process: one SmsContext (DB pool,
pooled provider sessions, ``sms.send_threads`` senders) per worker instead of one per forked
job; every provider call has its own timeout and RQ's job timeout bounds the rest. Scale out
by starting more workers.

``cron_main`` runs the same schedule alone (``vaxgate cron``, for a dedicated cron
process); running it on two nodes is safe. ``workers/cron_config.py`` has the schedule for
``rq cron workers.cron_config``, which keeps no cross-node lock: run that on one node only.

Redis: the queues, jobs and cron locks are on ``queue_redis_url``; what the jobs read and
write that may expire (OTP codes, breakers, rate limits, admission) on ``session_redis_url``.
"""
from __future__ import annotations

import logging
import signal
import threading

import redis
from rq import SimpleWorker
from rq.cron import CronScheduler
from rq.defaults import DEFAULT_WORKER_TTL

from gateway.config import Settings
from gateway.infra.redis_clients import connect_redis
from gateway.infra.redis_urls import redis_from_url
from gateway.sms.dispatch import SmsContext
from gateway.sms.outbox import QUEUES
from gateway.storage import Database
from workers import jobs, schedule
from workers.cron import check as check_schedule
from workers.cron import is_slot_job
from workers.cron import run as run_cron

log = logging.getLogger("vaxgate.worker")
# Outlasts RQ's wait for a job (worker_ttl - 15 s) on every connection, as RQ lengthens only
# those made after its Worker starts: one the cron thread opens earlier would keep
# redis-py's 5 s default and time out an idle BLPOP.
QUEUE_SOCKET_TIMEOUT_S = DEFAULT_WORKER_TTL


def worker_connections(settings: Settings) -> tuple[redis.Redis, redis.Redis]:
    """(session, queue) Redis clients for a worker; one client when both are the same URL.

    The queue client has no short socket timeout: RQ blocks on it waiting for jobs."""
    queue_url, session_url = settings.redis_url_for("queue"), settings.redis_url_for("session")
    queue = redis_from_url(queue_url, follow_failover=False,
                           socket_timeout=QUEUE_SOCKET_TIMEOUT_S)
    return (queue if session_url == queue_url else connect_redis(session_url)), queue


def build_context(settings: Settings, redis_conn: redis.Redis | None = None,
                  queue_conn: redis.Redis | None = None) -> SmsContext:
    """The SmsContext for this process, installed for the job functions.

    Given ``redis_conn`` alone, it serves both roles (tests on one Redis)."""
    if redis_conn is None:
        redis_conn, queue_conn = worker_connections(settings)
    ctx = SmsContext.build(settings, Database(settings.database_url), redis_conn,
                           queue_conn or redis_conn)
    jobs.install(ctx)
    return ctx


class ScheduledAtDebug(logging.LoggerAdapter):
    """RQ's worker log with its INFO lines about a scheduled job lowered to DEBUG: a run
    every few seconds that found nothing to do is noise (workers/cron.py ``report`` logs
    the runs that did something). Warnings and failures keep their level."""

    def __init__(self, logger: logging.Logger, worker: Worker):
        super().__init__(logger, {})
        self.worker = worker

    @property
    def level(self) -> int:
        """The logger's level (RQ reads it to start its scheduler)."""
        return self.logger.level

    def log(self, level: int, msg: object, *args, **kwargs) -> None:
        """Log as RQ asked, one level lower for an INFO line about a scheduled job."""
        if level == logging.INFO and (self.worker.on_scheduled_job
                                      or any(map(is_slot_job, args))):
            level = logging.DEBUG
        super().log(level, msg, *args, **kwargs)


class Worker(SimpleWorker):
    """RQ's SimpleWorker, stopping promptly on SIGTERM, quiet about scheduled jobs.

    At a warm shutdown RQ sends UNSUBSCRIBE and then stops its pubsub thread, which joins it
    with no timeout. When Redis' reply woke the thread before the stop flag was down, the
    thread went back to a 60 s blocking read and the worker hung that long (rq/rq#1613).
    Here the flag goes down first, so the reply to the UNSUBSCRIBE is the thread's last read."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.on_scheduled_job = False
        self.log = ScheduledAtDebug(self.log, self)

    def execute_job(self, job, queue) -> None:
        """Run the job in this process, noting whether the schedule enqueued it."""
        self.on_scheduled_job = is_slot_job(job.id)
        try:
            super().execute_job(job, queue)
        finally:
            self.on_scheduled_job = False

    def unsubscribe(self) -> None:
        if self.pubsub_thread:
            self.pubsub_thread.stop(timeout=0)  # only lowers the flag: no wait here
        super().unsubscribe()


def main(settings: Settings, *, burst: bool = False, cron: bool = True,
         redis_conn: redis.Redis | None = None, logging_level: str = "INFO") -> None:
    """Run one SMS worker until stopped (or until the queues are empty with ``burst``).
    ``logging_level`` is RQ's own (start-up, every job); failures log at ERROR."""
    ctx = build_context(settings, redis_conn)
    stop = threading.Event()
    if cron:
        schedule = check_schedule(cron_scheduler(settings, ctx.queue_redis))
        threading.Thread(target=run_cron, daemon=True, name="vaxgate-cron",
                         args=(schedule, ctx.queue_redis, stop)).start()
    try:
        Worker(worker_queues(settings), connection=ctx.queue_redis).work(
            burst=burst, with_scheduler=True, logging_level=logging_level)
    finally:
        stop.set()


def worker_queues(settings: Settings) -> list[str]:
    """The SMS queues in priority order, then the upstream registry's (``upstream.queue``):
    registry sync is not time-bound to a person's day, reminders are."""
    return list(dict.fromkeys([*QUEUES, settings.upstream.queue]))


def cron_scheduler(settings: Settings, redis_conn: redis.Redis) -> CronScheduler:
    """RQ's CronScheduler holding the one schedule (workers/schedule.py)."""
    return schedule.register(CronScheduler(connection=redis_conn, name="vaxgate-sms"), settings)


def cron_main(settings: Settings) -> None:
    """Run the schedule in the foreground until SIGTERM or Ctrl-C (safe on several nodes)."""
    queue = redis_from_url(settings.redis_url_for("queue"), follow_failover=False)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        run_cron(cron_scheduler(settings, queue), queue, stop)
    except KeyboardInterrupt:
        stop.set()
