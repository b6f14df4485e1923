"""What an SMS worker logs: a scheduled run that found nothing to do only at DEBUG, one that
did something in one INFO line, a failure at ERROR, and every other job as RQ logs it."""
from __future__ import annotations

import logging

import pytest
from rq import Queue
from rq.cron import CronScheduler

from workers import cron, jobs
from workers.worker import main as run_worker

TIMEOUT = pytest.mark.timeout(60)


def idle() -> dict[str, int]:
    """A scheduled job with nothing to do."""
    return {"sent": 0, "expired": 0}


def busy() -> dict[str, int]:
    """A scheduled job that did something."""
    return {"sent": 2, "expired": 0}


def broken() -> None:
    """A scheduled job that fails."""
    raise RuntimeError("the database went away")


def unscheduled(number: int) -> int:
    """A job some request enqueued (an SMS to send, say)."""
    return number


def _schedule(redis_client, func) -> str:
    scheduler = CronScheduler(connection=redis_client)
    scheduler.register(func, "bulk", interval=3600)
    [job_id] = cron.enqueue_due(scheduler, redis_client)
    return job_id


def _work(settings, redis_client, caplog) -> list[logging.LogRecord]:
    """What the worker run logged (not the scheduling before it)."""
    caplog.set_level(logging.INFO)
    caplog.clear()
    try:
        run_worker(settings, burst=True, cron=False, redis_conn=redis_client)
    finally:
        jobs.install(None)
    return caplog.records


def _lines(records, text: str) -> list[tuple[int, str]]:
    """The INFO-or-louder lines naming ``text`` (what a terminal shows by default)."""
    return [(r.levelno, r.getMessage()) for r in records
            if text in r.getMessage() and r.levelno >= logging.INFO]


@TIMEOUT
def test_a_scheduled_run_with_nothing_to_do_logs_nothing_at_info(settings, redis_client,
                                                                 caplog):
    job_id = _schedule(redis_client, idle)

    records = _work(settings, redis_client, caplog)

    assert Queue("bulk", connection=redis_client).fetch_job(job_id).is_finished
    assert _lines(records, job_id) == [] and _lines(records, idle.__name__) == []


@TIMEOUT
def test_a_scheduled_run_that_did_something_logs_one_info_line(settings, redis_client,
                                                               caplog):
    _schedule(redis_client, busy)

    records = _work(settings, redis_client, caplog)

    assert _lines(records, "busy") == [
        (logging.INFO, f"scheduled {busy.__module__}.busy: sent=2")]


@TIMEOUT
def test_a_failing_scheduled_run_is_still_logged_as_an_error(settings, redis_client, caplog):
    _schedule(redis_client, broken)

    records = _work(settings, redis_client, caplog)

    errors = [r for r in records if r.levelno >= logging.ERROR]
    assert "the database went away" in "".join(r.getMessage() + (r.exc_text or "")
                                               for r in errors)


@TIMEOUT
def test_jobs_outside_the_schedule_keep_rqs_info_lines(settings, redis_client, caplog):
    job = Queue("notify", connection=redis_client).enqueue(unscheduled, 7)

    records = _work(settings, redis_client, caplog)

    assert [level for level, _ in _lines(records, f"Job OK ({job.id})")] == [logging.INFO]


@pytest.mark.parametrize("result, said", [
    ({"resent": 2, "expired": 0, "given_up": 1}, "resent=2, given_up=1"),
    ({"resent": 0}, ""),
    ({"ok": True, "last_error": None}, ""),
    (["+919812345678", "+919812345679"], "count=2"),
    ([], ""),
    (3, "count=3"),
    (0, ""),
    (None, ""),
])
def test_what_a_scheduled_job_did_is_read_from_its_return_value(result, said):
    assert cron.did(result) == said
