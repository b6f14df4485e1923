"""The retry schedule: when a message no provider took is tried again, and the job that will.

SQL holds the schedule (``next_attempt_at`` and ``retries`` on the message), so the sweeper
can always rebuild it; RQ's ``enqueue_at`` is only the timer that wakes a worker then (RQ's
``Retry`` could not do this: one interval list per job, not per message of a batch, a retry
used up by a try that every open circuit skipped, and state only Redis holds).

- ``otp`` queue: again every ``sms.otp_retry_seconds`` until the message expires;
- ``notify``/``bulk``: after ``sms.retry_intervals_seconds`` (the last one repeats) until
  ``sms.give_up_after_hours``;
- a round in which no provider was tried (every circuit open, or rate limits spent) uses up
  no retry: it waits for the earliest moment a circuit lets a probe through (or the next
  rate window), never longer than the queue's own interval.
"""
from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence

import redis
from rq import Queue

from gateway.config import SmsSettings
from gateway.sms import outbox
from gateway.sms.claims import Settled
from gateway.storage.ledger import MessageStatus
from gateway.storage.models import utcnow

MIN_WAIT_S = 0.5  # a probe due "now" is still a round trip away


def next_round(sms: SmsSettings, queue: str, retries: int, tried: bool,
               waits: Sequence[float]) -> tuple[float, int]:
    """(seconds until the next round, retries after this one) for a message no provider
    took: ``tried`` when some provider really failed it, ``waits`` the seconds until each
    skipped provider may be tried."""
    if queue == "otp":
        delay = sms.otp_retry_seconds
    else:
        intervals = sms.retry_intervals_seconds or [sms.otp_retry_seconds]
        delay = intervals[min(retries, len(intervals) - 1)]
    if waits and (not tried or queue == "otp"):
        delay = min(delay, *waits)
    return max(delay, MIN_WAIT_S), retries + 1 if tried else retries


def at(seconds: float) -> dt.datetime:
    """The moment ``seconds`` from now (UTC)."""
    return utcnow() + dt.timedelta(seconds=seconds)


def schedule(queue_conn: redis.Redis, sms: SmsSettings, queue: str,
             results: Sequence[Settled]) -> list[str]:
    """Wake a worker for each distinct second at which some of ``results`` are due again."""
    due: dict[int, list[int]] = {}
    for result in results:
        if result.status is MessageStatus.QUEUED and result.next_attempt_at is not None:
            second = math.ceil(result.next_attempt_at.timestamp())
            due.setdefault(second, []).append(result.message.id)
    q = Queue(queue, connection=queue_conn)
    now = utcnow().timestamp()
    return [_wake(q, sms, queue, second, ids, now) for second, ids in sorted(due.items())]


def _wake(q: Queue, sms: SmsSettings, queue: str, second: int, ids: list[int],
          now: float) -> str:
    options = outbox.job_options(sms, queue)
    if second <= now:
        return q.enqueue(outbox.SEND_JOB, ids, queue, **options).id
    when = dt.datetime.fromtimestamp(second, dt.UTC)
    return q.enqueue_at(when, outbox.SEND_JOB, ids, queue, **options).id
