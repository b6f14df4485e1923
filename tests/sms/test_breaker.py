"""The provider circuit breaker, its state in a real Redis shared by every breaker object."""
from __future__ import annotations

import time

import pytest
import redis

from gateway.sms.breaker import Breaker, State

PROBE_S = 5


@pytest.fixture
def breaker(redis_client) -> Breaker:
    return Breaker("twilio", redis_client, fail_max=3, reset_seconds=1)


def test_closed_breaker_admits_every_send(breaker):
    assert breaker.admit(PROBE_S).go
    assert breaker.state() is State.CLOSED


@pytest.mark.parametrize(("failures", "timed_out", "state"), [
    (2, False, State.CLOSED), (3, False, State.OPEN), (1, True, State.OPEN)])
def test_failures_in_a_row_or_one_timeout_open_the_circuit(breaker, failures, timed_out,
                                                           state):
    for _ in range(failures):
        breaker.failed(timed_out=timed_out)
    assert breaker.state() is state


def test_a_success_resets_the_count_of_failures(breaker):
    breaker.failed()
    breaker.failed()
    breaker.succeeded()
    breaker.failed()
    assert breaker.state() is State.CLOSED


def test_an_open_circuit_is_shared_by_every_worker(breaker, redis_client):
    breaker.failed(timed_out=True)
    other_worker = Breaker("twilio", redis_client, fail_max=3, reset_seconds=1)
    refused = other_worker.admit(PROBE_S)
    assert not refused.go and 0 < refused.wait <= 1
    assert Breaker("africastalking", redis_client, 3, 1).admit(PROBE_S).go


def test_after_the_reset_time_exactly_one_caller_probes(breaker, redis_client):
    breaker.failed(timed_out=True)
    time.sleep(1.05)
    assert breaker.state() is State.HALF_OPEN
    callers = [Breaker("twilio", redis_client, 3, 1) for _ in range(5)]
    admitted = [c.admit(PROBE_S) for c in callers]
    assert [a.probe for a in admitted] == [True, False, False, False, False]
    assert all(0 < a.wait <= PROBE_S for a in admitted[1:])


@pytest.mark.parametrize(("probe_ok", "state"), [(True, State.CLOSED), (False, State.OPEN)])
def test_the_probe_closes_or_reopens_the_circuit(breaker, probe_ok, state):
    breaker.failed(timed_out=True)
    time.sleep(1.05)
    assert breaker.admit(PROBE_S).probe
    if probe_ok:
        breaker.succeeded()
    else:
        breaker.failed()
    assert breaker.state() is state
    assert breaker.admit(PROBE_S).go is probe_ok


def test_a_probe_that_never_reports_back_frees_the_probe_after_its_time(breaker):
    breaker.failed(timed_out=True)
    time.sleep(1.05)
    assert breaker.admit(0.2).probe  # its worker was killed mid-probe
    time.sleep(0.3)
    assert breaker.admit(PROBE_S).probe


def test_redis_down_counts_as_closed(redis_url):
    gone = redis.Redis(unix_socket_path="/nonexistent/redis.sock", socket_timeout=0.2)
    breaker = Breaker("twilio", gone, fail_max=1, reset_seconds=1)
    assert breaker.admit(PROBE_S).go
    assert breaker.failed() is False
