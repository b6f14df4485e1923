"""Fault e: the upstream registry down for an hour, in simulated time.

Phones register and book through the real gateway; the real RQ worker tries the upstream
in real time and meets 503s. Then the hour is driven here: the workers stop, and every
simulated ``TICK`` the clock of everything that reads it moves on (``time_machine`` for the
gateway's ``utcnow()`` and the request signatures, ``FakeUpstream.clock`` for the fake),
the upstream sweeper runs with that ``now`` and the worker's RQ worker drains the queue,
exactly as ``vaxgate worker`` would. While the upstream is down no retry may wait longer
than ``upstream.backoff_cap_seconds``, and once its circuit is open the registry sees a
trickle of probes, never a gap longer than the cap; once it is back every event is accepted
exactly once (by Idempotency-Key), within one capped backoff of simulated time.
"""
from __future__ import annotations

import datetime as dt
import time

import pytest
import time_machine
from sqlalchemy import select

from gateway.config import load_settings
from gateway.storage import UpstreamEvent
from gateway.upstream import sweeper
from workers import jobs
from workers.worker import Worker, build_context

from .phones import Phones
from .reconcile import reconcile, settle

pytestmark = [pytest.mark.faults, pytest.mark.timeout(180)]
BASE_S, CAP_S, TICK_S = 10, 300, 15
OUTAGE = dt.timedelta(hours=1)


def test_upstream_down_an_hour_delivers_every_event_once_with_capped_backoff(
        make_stack, report, monkeypatch):
    stack = make_stack(config={"upstream": {"backoff_base_seconds": BASE_S,
                                            "backoff_cap_seconds": CAP_S}})
    start = dt.datetime.now(dt.UTC)
    stack.upstream.clock, stack.upstream.down_until = start, start + OUTAGE
    with Phones(stack.url, scenario=5, callers=3, otp=0) as phones:
        phones.wait_for("booking", 4, timeout=40)
    assert settle(stack.db, phones.prefix, timeout=30, upstream=False) == []  # SMS are out
    assert wait_for_the_outage_to_be_met(stack.db, timeout=60)
    for worker in stack.workers:  # from here the hour is driven by this test
        worker.stop()
    for name, value in stack.env.items():  # credentials and secrets, as the worker had them
        monkeypatch.setenv(name, value)
    settings = load_settings(stack.config_path)
    ctx = build_context(settings)
    try:
        longest_wait, recovered_at = drive_simulated_hour(stack, ctx, start)
    finally:
        jobs.install(None)
    assert settle(stack.db, phones.prefix, timeout=5) == []
    result = reconcile("upstream down 1 h (simulated)", stack.db, phones.traffic, stack.fake,
                       stack.upstream, phones.prefix)
    sent = len(events(stack.db))
    tries = tries_per_person(stack.db).values()
    statuses = [r["status"] for r in stack.upstream.requests]
    result.note = (f"{sent} events, {min(tries)}-{max(tries)} tries per person, "
                   f"{len(statuses) - sent} requests while down, longest wait "
                   f"{longest_wait:.0f} s (cap {CAP_S}), all sent {recovered_at:.0f} s after "
                   "recovery")
    report(result)
    assert statuses[:-sent] == [503] * (len(statuses) - sent)  # nothing got through while down
    assert CAP_S / 2 <= longest_wait <= CAP_S  # the backoff grew to the cap (jitter: half-all)
    assert longest_gap(stack.upstream.requests, start + OUTAGE) <= CAP_S + TICK_S  # kept trying
    assert recovered_at <= CAP_S + TICK_S
    assert result.lost == [] and result.duplicated == [], (result.lost, result.duplicated)
    assert result.half_written == [], result.half_written


def events(db) -> list[UpstreamEvent]:
    with db.read() as session:
        return list(session.scalars(select(UpstreamEvent)))


def tries_per_person(db) -> dict[int, int]:
    """Tries of each person's events: only a person's first unsent event is tried (order)."""
    tries: dict[int, int] = {}
    for event in events(db):
        tries[event.beneficiary_id] = tries.get(event.beneficiary_id, 0) + event.attempts
    return tries


def longest_gap(requests: list[dict], until: dt.datetime) -> float:
    """The longest time (fake's clock) the registry saw no request, up to ``until``."""
    times = [r["at"] for r in requests if r["at"] < until] + [until]
    return max((b - a).total_seconds() for a, b in zip(times, times[1:], strict=False))


def wait_for_the_outage_to_be_met(db, timeout: float) -> bool:
    """Until the real worker has tried the registry and been refused (with the breaker open,
    the others wait their turn: the simulated hour below tries everyone)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(tries_per_person(db).values()):
            return True
        time.sleep(0.2)
    return False


def drive_simulated_hour(stack, ctx, start: dt.datetime) -> tuple[float, float]:
    """Tick until every event is sent; return the longest scheduled wait seen while down
    and how long after recovery (simulated seconds) the last event went out."""
    longest, now = 0.0, start
    while now < start + OUTAGE + dt.timedelta(seconds=3 * CAP_S):
        now += dt.timedelta(seconds=TICK_S)
        stack.upstream.clock = now
        with time_machine.travel(now, tick=False):
            if sweeper.sweep(ctx, now=now)["enqueued"]:
                Worker([ctx.settings.upstream.queue], connection=ctx.queue_redis).work(
                    burst=True, logging_level="WARNING")
        pending = [e for e in events(stack.db) if e.status != "sent"]
        if not pending:
            return longest, (now - start - OUTAGE).total_seconds()
        if now < start + OUTAGE:
            longest = max(longest, *((as_utc(e.next_attempt_at) - as_utc(e.updated_at))
                                     .total_seconds() for e in pending))
    raise AssertionError(f"{len(pending)} events still pending after the outage")


def as_utc(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
