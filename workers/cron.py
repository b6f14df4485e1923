"""Scheduled jobs on many nodes at once: each job runs once per interval slot, on one node.

RQ's ``CronScheduler`` holds the schedule (job, queue, interval) but keeps its timing in
memory, so two nodes running it would both enqueue every job. Here every node polls, and
for each job computes the current slot from the queue Redis's clock (one clock for every
node): ``slot = now // interval``. It then takes ``vaxgate:cron:NAME:SLOT`` with
``SET NX PX``; only the node that set the key enqueues the job, as ``cron-NAME-SLOT``.
So a job with a 5 s interval runs every 5 s whatever the other jobs' intervals and however
many workers run cron, and a node that dies loses at most the slot it had taken.

A run that found nothing to do is logged at DEBUG only (workers/worker.py); one that did
something gets one INFO line from ``report``, RQ's success callback.
"""
from __future__ import annotations

import logging
import os
import socket
import threading

import redis
from rq import Callback, Queue
from rq.cron import CronJob, CronScheduler
from rq.job import Job

log = logging.getLogger("vaxgate.cron")
LOCK_PREFIX = "vaxgate:cron"
SLOT_JOB_PREFIX = "cron-"


def node_name() -> str:
    """Who took a slot (stored in the lock, for whoever looks)."""
    return f"{socket.gethostname()}:{os.getpid()}"


def slot_job_id(job: CronJob, slot: int) -> str:
    """The RQ job id of one slot's run: ``cron-gateway_upstream_jobs_sweep-123456``."""
    return f"{SLOT_JOB_PREFIX}{job.name.replace('.', '_')}-{slot}"


def is_slot_job(job_id: object) -> bool:
    """True for the id of a job this schedule enqueued (``slot_job_id``)."""
    return isinstance(job_id, str) and job_id.startswith(SLOT_JOB_PREFIX)


def did(result: object) -> str:
    """What a scheduled job's return value says it did (``resent=2, expired=1``), or ""
    when it found nothing to do: counts per kind, a count, or the list of what it handled."""
    if isinstance(result, dict):
        return ", ".join(f"{key}={value}" for key, value in result.items() if _counted(value))
    if isinstance(result, list | tuple | set):
        return f"count={len(result)}" if result else ""
    return f"count={result}" if _counted(result) else ""


def _counted(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def report(job: Job, connection: redis.Redis, result: object, *args, **kwargs) -> None:
    """RQ's success callback of a scheduled job: one INFO line when it did something (the
    worker logs the runs that found nothing to do at DEBUG)."""
    summary = did(result)
    if summary:
        log.info("scheduled %s: %s", job.func_name, summary)


def enqueue_due(scheduler: CronScheduler, conn: redis.Redis, node: str = "") -> list[str]:
    """Enqueue each job whose current slot no node has taken yet; return their job ids."""
    seconds, micros = conn.time()
    now_ms = seconds * 1000 + micros // 1000
    due = [(job, now_ms // (job.interval * 1000)) for job in scheduler.get_jobs()]
    pipe = conn.pipeline(transaction=False)
    for job, slot in due:
        pipe.set(f"{LOCK_PREFIX}:{job.name}:{slot}", node or node_name(), nx=True,
                 px=job.interval * 2000)
    taken = [(job, slot) for (job, slot), won in zip(due, pipe.execute(), strict=True) if won]
    return [_enqueue(job, slot, conn) for job, slot in taken]


def _enqueue(job: CronJob, slot: int, conn: redis.Redis) -> str:
    queue = Queue(job.queue_name, connection=conn)
    return queue.enqueue(job.func, args=job.args, kwargs=job.kwargs,
                         job_id=slot_job_id(job, slot), on_success=Callback(report),
                         **job.job_options).id


def poll_seconds(scheduler: CronScheduler) -> float:
    """How often to look: often enough not to miss a slot of the shortest interval."""
    return max(0.2, min(1.0, min(job.interval for job in scheduler.get_jobs()) / 4))


def check(scheduler: CronScheduler) -> CronScheduler:
    """The scheduler, if every job has an interval (slots need one); else ValueError."""
    unscheduled = [job.name for job in scheduler.get_jobs() if not job.interval]
    if unscheduled:
        raise ValueError(f"cron jobs need an interval (in seconds): {unscheduled}")
    return scheduler


def run(scheduler: CronScheduler, conn: redis.Redis, stop: threading.Event) -> None:
    """Poll until ``stop`` is set; a Redis outage is logged and waited out."""
    node, wait = node_name(), poll_seconds(check(scheduler))
    while not stop.is_set():
        try:
            for job_id in enqueue_due(scheduler, conn, node):
                log.debug("cron: enqueued %s", job_id)
        except redis.RedisError as exc:
            log.warning("cron: Redis unavailable (%s); will try again", type(exc).__name__)
        stop.wait(wait)
