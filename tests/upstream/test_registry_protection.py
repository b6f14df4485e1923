"""A registry that fails while many events wait: at most ``max_in_flight`` requests at once
across all workers, and once its circuit opens, one probe per ``breaker_reset_seconds``
until it answers again; then everything is delivered once."""
from __future__ import annotations

import datetime as dt
from concurrent.futures import ThreadPoolExecutor

import time_machine

from gateway.storage.models import utcnow
from gateway.upstream import delivery, sweeper
from gateway.upstream.breaker import CLOSED, HALF_OPEN, OPEN, Breaker
from workers import jobs

from .support import events, register, run_jobs

PEOPLE, WORKERS, CAP, FAIL_MAX, RESET_S = 12, 8, 3, 4, 60


def _people(db, count: int = PEOPLE) -> list[int]:
    return [register(db, f"Person {n}", phone=f"+9198123{n:05d}") for n in range(count)]


def _all_at_once(ctx, people: list[int]) -> int:
    """Every person's delivery job running at once on ``WORKERS`` workers; events sent."""
    with ThreadPoolExecutor(WORKERS) as pool:
        return sum(pool.map(lambda person: delivery.deliver(ctx, person), people))


def _untried(db) -> list[int]:
    return [e.beneficiary_id for e in events(db) if e.attempts == 0]


def test_a_failing_registry_never_has_more_than_max_in_flight_requests_open(
        make_uctx, upstream, db):
    ctx = make_uctx(max_in_flight=CAP, breaker_fail_max=1000)
    people = _people(db)
    upstream.down_until = utcnow() + dt.timedelta(days=1)
    upstream.hold_seconds = 0.3

    rounds = 0
    while _untried(db) and rounds < PEOPLE:
        _all_at_once(ctx, _untried(db))
        rounds += 1

    assert _untried(db) == [] and len(upstream.requests) == len(people)  # each tried once
    assert upstream.peak_in_flight == CAP  # workers beyond the cap held back, none waited
    assert rounds > 1


def test_an_open_circuit_lets_one_probe_through_per_reset_period(make_uctx, upstream, db):
    ctx = make_uctx(max_in_flight=CAP, breaker_fail_max=FAIL_MAX,
                    breaker_reset_seconds=RESET_S)
    people = _people(db)
    start = utcnow()
    upstream.down_until = start + dt.timedelta(days=1)
    with time_machine.travel(start, tick=False) as clock:
        _all_at_once(ctx, people)
        opened = len(upstream.requests)
        _all_at_once(ctx, people)  # every job again: the circuit is open
        assert FAIL_MAX <= opened <= FAIL_MAX + CAP - 1 and len(upstream.requests) == opened

        probes = []
        for period in range(1, 6):
            clock.move_to(start + dt.timedelta(seconds=period * RESET_S + 1))
            before = len(upstream.requests)
            _all_at_once(ctx, people)
            probes.append(len(upstream.requests) - before)

    assert probes == [1] * 5  # a trickle: one request a minute while it is down
    assert Breaker(ctx.redis, ctx.settings.upstream).state() == OPEN


def test_the_sweeper_enqueues_nobody_while_open_and_one_probe_when_half_open(
        make_uctx, upstream, db, redis_client):
    ctx = make_uctx(breaker_fail_max=FAIL_MAX, breaker_reset_seconds=RESET_S)
    breaker = Breaker(redis_client, ctx.settings.upstream)
    _people(db, 3)
    start = utcnow()
    with time_machine.travel(start, tick=False) as clock:
        for _ in range(FAIL_MAX):
            breaker.record(healthy=False)
        assert (breaker.state(), sweeper.sweep(ctx)["enqueued"]) == (OPEN, 0)

        clock.move_to(start + dt.timedelta(seconds=RESET_S + 1))
        assert (breaker.state(), sweeper.sweep(ctx)["enqueued"]) == (HALF_OPEN, 1)


def test_after_the_registry_recovers_every_event_is_delivered_once(make_uctx, upstream, db):
    ctx = make_uctx(max_in_flight=CAP, breaker_fail_max=FAIL_MAX,
                    breaker_reset_seconds=RESET_S)
    _people(db)
    start = utcnow()
    upstream.down_until = start + dt.timedelta(minutes=10)
    jobs.install(ctx)
    try:
        with time_machine.travel(start, tick=False) as clock:
            for second in range(0, 20 * 60, 5):
                now = start + dt.timedelta(seconds=second)
                clock.move_to(now)
                upstream.clock = now
                if sweeper.sweep(ctx, now=now)["enqueued"]:
                    run_jobs(ctx.queue_redis)
    finally:
        jobs.install(None)

    keys = [body["idempotency_key"] for body in upstream.accepted]
    failed = [r for r in upstream.requests if r["status"] == 503]
    assert len(failed) <= FAIL_MAX + 10 * 60 // RESET_S  # not PEOPLE x the backoff's tries
    assert sorted(keys) == sorted(e.idempotency_key for e in events(db))  # each once
    assert {e.status for e in events(db)} == {"sent"}
    assert Breaker(ctx.redis, ctx.settings.upstream).state() == CLOSED
