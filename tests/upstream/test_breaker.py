"""The upstream circuit breaker in Redis: opens after failures in a row, lets exactly one
probe through per reset period, and closes on an answer."""
from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from gateway.config import UpstreamSettings
from gateway.upstream.breaker import CLOSED, HALF_OPEN, OPEN, PROBE, Breaker

CONFIG = UpstreamSettings(url="http://registry.example:8080/events", timeout_seconds=2,
                          breaker_fail_max=3, breaker_reset_seconds=60)
START = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


@pytest.fixture
def clock():
    with time_machine.travel(START, tick=False) as traveller:
        yield lambda seconds: traveller.move_to(START + dt.timedelta(seconds=seconds))


@pytest.fixture
def breaker(redis_client) -> Breaker:
    return Breaker(redis_client, CONFIG)


def _fail(breaker: Breaker, times: int) -> None:
    for _ in range(times):
        breaker.record(healthy=False)


def test_the_circuit_opens_after_fail_max_failures_in_a_row(breaker, clock):
    _fail(breaker, 2)
    assert (breaker.state(), breaker.admit()) == (CLOSED, CLOSED)
    _fail(breaker, 1)
    assert (breaker.state(), breaker.admit()) == (OPEN, OPEN)


def test_an_answer_between_failures_starts_the_count_again(breaker, clock):
    _fail(breaker, 2)
    breaker.record(healthy=True)
    _fail(breaker, 2)
    assert breaker.state() == CLOSED


def test_after_the_reset_period_exactly_one_caller_probes(breaker, clock):
    _fail(breaker, 3)
    clock(61)

    answers = [breaker.admit() for _ in range(10)]

    assert answers == [PROBE] + [OPEN] * 9
    assert breaker.state() == OPEN  # the probe is out


def test_a_failed_probe_opens_the_circuit_for_another_period(breaker, clock):
    _fail(breaker, 3)
    clock(61)
    assert breaker.admit() == PROBE
    breaker.record(healthy=False)
    clock(61 + 59)
    assert breaker.admit() == OPEN
    clock(61 + 61)
    assert breaker.admit() == PROBE


def test_a_probe_that_answers_closes_the_circuit(breaker, clock):
    _fail(breaker, 3)
    clock(61)
    assert breaker.admit() == PROBE
    breaker.record(healthy=True)
    assert [breaker.admit() for _ in range(3)] == [CLOSED] * 3


def test_a_prober_that_died_does_not_hold_the_probe_for_ever(breaker, clock):
    _fail(breaker, 3)
    clock(61)
    assert breaker.admit() == PROBE  # and its worker is killed: no answer is recorded
    assert breaker.state() == OPEN
    clock(61 + 2 * CONFIG.timeout_seconds + 11)
    assert (breaker.state(), breaker.admit()) == (HALF_OPEN, PROBE)


def test_each_registry_has_its_own_circuit(breaker, redis_client, clock):
    other = Breaker(redis_client, CONFIG.model_copy(update={"url": "https://other.example/e"}))
    _fail(breaker, 3)
    assert (breaker.state(), other.state()) == (OPEN, CLOSED)
