"""The one schedule: every scheduled job, its queue and its interval, from the settings.

``vaxgate worker`` and ``vaxgate cron`` run it through workers/cron.py (each job once per
interval across all nodes); ``rq cron workers.cron_config`` registers the same entries.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from gateway.config import Settings
from gateway.reminders import jobs as reminder_jobs
from gateway.upstream import jobs as upstream_jobs
from workers import jobs


@dataclass(frozen=True)
class Entry:
    """One scheduled job: what runs, on which RQ queue, every how many seconds."""

    func: Callable[..., Any]
    queue: str
    interval: int
    result_ttl: int = 60


def entries(settings: Settings) -> list[Entry]:
    """Every scheduled job of this deployment."""
    sweep_every = settings.sms.sweep_interval_seconds
    listed = [
        Entry(jobs.sweep, "otp", sweep_every),
        Entry(upstream_jobs.sweep, settings.upstream.queue,
              settings.upstream.sweep_interval_seconds),
        Entry(reminder_jobs.plan_reminders, reminder_jobs.QUEUE, sweep_every),
        Entry(reminder_jobs.run_waitlist, reminder_jobs.QUEUE, sweep_every),
        Entry(jobs.apply_retention, "bulk", settings.retention.interval_minutes * 60, 3600),
    ]
    if settings.admission.max_active_sessions:
        listed.insert(1, Entry(jobs.release_turns, "otp",
                               settings.admission.release_interval_seconds))
    return listed


def register(scheduler: Any, settings: Settings) -> Any:
    """Add every entry to an RQ ``CronScheduler`` (or the ``rq.cron`` module); return it."""
    for entry in entries(settings):
        scheduler.register(entry.func, entry.queue, interval=entry.interval,
                           result_ttl=entry.result_ttl)
    return scheduler
