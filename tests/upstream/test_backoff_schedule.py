"""One event against a registry that stays down, over an hour of simulated time: its tries
follow the documented backoff (10, 20, 40, 80, 160, 300, 300 ... s, each wait a random half
to all of its step), driven second by second through the sweeper and the worker."""
from __future__ import annotations

import datetime as dt

import time_machine

from gateway.storage.models import utcnow
from gateway.upstream import sweeper

from .support import events, register, run_jobs

HOUR_S, TICK_S = 3600, 1
STEPS = [10, 20, 40, 80, 160] + [300] * 20


def _run_an_hour(ctx, upstream, start: dt.datetime) -> list[int]:
    """Sweep every simulated second (and run the worker when it enqueued someone); return
    the seconds after ``start`` at which a sweep enqueued the person."""
    enqueued_at = []
    with time_machine.travel(start, tick=False) as clock:
        for second in range(0, HOUR_S + 1, TICK_S):
            now = start + dt.timedelta(seconds=second)
            clock.move_to(now)
            upstream.clock = now
            if sweeper.sweep(ctx, now=now)["enqueued"]:
                enqueued_at.append(second)
                run_jobs(ctx.queue_redis)
    return enqueued_at


def test_one_event_is_retried_on_the_capped_backoff_for_an_hour_never_sooner(
        worker_ctx, upstream, db):
    start = utcnow().replace(microsecond=0) + dt.timedelta(seconds=1)
    with time_machine.travel(start, tick=False):
        register(db, "Sita Devi")
    upstream.down_until = start + dt.timedelta(days=1)

    enqueued_at = _run_an_hour(worker_ctx, upstream, start)

    tried_at = [(r["at"] - start).total_seconds() for r in upstream.requests]
    waits = [later - earlier for earlier, later in zip(tried_at, tried_at[1:], strict=False)]
    assert tried_at[0] == 0 and enqueued_at == tried_at  # each enqueue is one try, when due
    for wait, step in zip(waits, STEPS, strict=False):
        assert step / 2 <= wait <= step + TICK_S, (waits, STEPS)
    assert max(waits) <= 300 + TICK_S and HOUR_S - tried_at[-1] <= 300 + TICK_S
    assert events(db)[0].attempts == len(tried_at) >= 16  # 10..160 s, then <= 300 s apart
