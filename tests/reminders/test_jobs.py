"""The cron jobs run in the SMS worker: reminders reach the sandbox over the bulk queue."""
from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from rq import Queue

from gateway.reminders import jobs as reminder_jobs
from gateway.sms.outbox import QUEUES
from workers import jobs
from workers.worker import Worker, build_context, cron_scheduler

from .support import IST, book, center, person, reminders, slot


@pytest.fixture
def worker_ctx(settings, db, redis_client):
    ctx = build_context(settings, redis_client)
    yield ctx
    jobs.install(None)


def test_the_worker_cron_schedules_reminders_and_the_waitlist(settings, redis_client):
    names = {job.func_name for job in cron_scheduler(settings, redis_client).get_jobs()}
    assert {"gateway.reminders.jobs.plan_reminders",
            "gateway.reminders.jobs.run_waitlist"} <= names


def test_a_planned_reminder_is_sent_by_the_worker_from_the_bulk_queue(worker_ctx, db,
                                                                      redis_client):
    day = dt.datetime.now(IST).date() + dt.timedelta(days=2)
    book(db, person(db), slot(db, center(db), day, dt.time(10), dt.time(12)),
         today=day - dt.timedelta(days=2))
    due = dt.datetime.combine(day - dt.timedelta(days=1), dt.time(10), IST)
    with time_machine.travel(due - dt.timedelta(minutes=30), tick=False):
        reminder_jobs.plan_reminders()  # the first pass sets the watermark
    with time_machine.travel(due, tick=False):
        assert reminder_jobs.plan_reminders()["created"] == 1
    assert Queue("bulk", connection=redis_client).count == 1
    with time_machine.travel(due, tick=True):  # outside the SMS quiet hours, whenever run
        Worker(list(QUEUES), connection=redis_client).work(burst=True)
    assert [m.status for m in reminders(db)] == ["sent"]
    assert reminder_jobs.run_waitlist() == 0
