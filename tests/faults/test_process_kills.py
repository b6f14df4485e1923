"""Fault a: ``kill -9`` of a gunicorn web worker mid-request and of the RQ worker mid-send."""
from __future__ import annotations

import os
import signal
import time
from functools import partial

import psutil
import pytest

from .phones import Phones
from .reconcile import deliveries, reconcile, settle

pytestmark = [pytest.mark.faults, pytest.mark.timeout(150)]
KILLS = 2  # web worker kills, one after the other


def wait_until(predicate, timeout: float, step: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return False


def test_kill9_of_web_and_rq_workers_loses_and_duplicates_nothing_acknowledged(
        make_stack, report):
    stack = make_stack()
    with Phones(stack.url, scenario=1, callers=4, otp=1) as phones:
        phones.wait_for("booking", 3, timeout=30)
        # both workers are busy with 4 callers: each kill cuts the request in flight
        killed = [kill_web_worker(stack) for _ in range(KILLS)]
        # the RQ worker: a slow provider keeps a send in flight, then SIGKILL
        stack.fake.twilio.delay = 3.0
        before = len(stack.fake.twilio.received)
        assert wait_until(lambda: len(stack.fake.twilio.received) > before, timeout=30)
        in_flight = stack.fake.twilio.received[-1]["form"]
        stack.workers[0].kill9()
        stack.fake.twilio.delay = 0.0
        stack.start_worker()
        phones.wait_for("booking", 3, timeout=30)
    traffic = phones.traffic
    assert settle(stack.db, phones.prefix, timeout=60) == []
    result = reconcile(f"kill -9 web worker x{KILLS} + RQ worker mid-send", stack.db, traffic,
                       stack.fake, stack.upstream, phones.prefix)
    sent_twice = deliveries(stack.fake)[(in_flight["To"], in_flight["Body"])]
    result.note = (f"{traffic.statuses[0]} requests cut by the kills; the SMS in flight at "
                   f"the RQ kill reached the provider {sent_twice}x (at-least-once)")
    report(result)
    assert stack.web.alive() and not set(killed) & set(stack.web_workers())
    assert traffic.server_errors() == 0, traffic.statuses
    assert traffic.menus_on_redial(cut=True), traffic.probes
    assert traffic.statuses[0] <= KILLS, "a request got no answer, other than the killed ones"
    assert result.acknowledged > 0 and result.lost == [], result.lost
    assert result.half_written == [], result.half_written
    # Twilio's and Africa's Talking's send APIs take no idempotency key: a send whose answer
    # died with the worker is re-sent by the sweeper. Only that one message may be doubled.
    assert [d for d in result.duplicated if in_flight["To"] not in d] == []
    assert sent_twice <= 2


def kill_web_worker(stack) -> int:
    """SIGKILL the oldest gunicorn worker; return once its replacement answers requests
    (a worker takes seconds to boot: killing the other one meanwhile would leave none)."""
    before = set(stack.web_workers())
    victim = min(before, key=lambda pid: psutil.Process(pid).create_time())
    os.kill(victim, signal.SIGKILL)
    assert wait_until(lambda: set(stack.web_workers()) - before, timeout=30)
    new = (set(stack.web_workers()) - before).pop()
    assert wait_until(partial(stack.has_served, new), timeout=60), stack.web.tail()
    return victim
