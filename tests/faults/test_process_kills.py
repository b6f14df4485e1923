"""Fault a: ``kill -9`` of a gunicorn web worker mid-request and of the RQ worker mid-batch."""
from __future__ import annotations

import os
import signal
import time
from collections import Counter
from functools import partial

import psutil
import pytest
import redis

from gateway.config import SmsSettings
from gateway.sms import outbox

from .phones import Phones
from .reconcile import deliveries, reconcile, settle

pytestmark = [pytest.mark.faults, pytest.mark.timeout(150)]
KILLS = 2  # web worker kills, one after the other
BATCH, IN_FLIGHT_S = 12, 1.5  # messages of the one job in flight at the RQ kill
BATCH_PREFIX = "+2547"  # outside India's DLT rules: plain texts are fine


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
        # the RQ worker: a slow provider holds a whole batch in flight, then SIGKILL
        batch_sms, in_flight = kill_rq_worker_mid_batch(stack)
        stack.start_worker()
        phones.wait_for("booking", 3, timeout=30)
    traffic = phones.traffic
    assert settle(stack.db, phones.prefix, timeout=60) == []
    assert settle(stack.db, BATCH_PREFIX, timeout=60, upstream=False) == []
    result = reconcile(f"kill -9 web worker x{KILLS} + RQ worker mid-batch", stack.db, traffic,
                       stack.fake, stack.upstream, phones.prefix)
    got = deliveries(stack.fake)
    batch = [got[sms] for sms in batch_sms]
    times = ", ".join(f"{n}x: {k}" for n, k in sorted(Counter(batch).items()))
    result.note = (f"{traffic.statuses[0]} requests cut by the kills; the batch of "
                   f"{len(batch)} SMS in flight at the RQ kill reached the provider {times} "
                   "(at-least-once)")
    report(result)
    assert stack.web.alive() and not set(killed) & set(stack.web_workers())
    assert traffic.server_errors() == 0, (traffic.statuses, stack.web.errors())
    assert traffic.menus_on_redial(cut=True), traffic.probes
    assert traffic.statuses[0] <= KILLS, "a request got no answer, other than the killed ones"
    assert result.acknowledged > 0 and result.lost == [], result.lost
    assert result.half_written == [], result.half_written
    # Twilio's and Africa's Talking's send APIs take no idempotency key: the sends whose
    # answers died with the worker are sent again stale_after_seconds later. Only those.
    phones_in_flight = {phone for phone, _ in in_flight}
    assert [d for d in result.duplicated if not any(p in d for p in phones_in_flight)] == []
    assert all(1 <= n <= 2 for n in batch), batch
    assert {sms for sms, n in got.items() if n > 1} <= in_flight


def kill_rq_worker_mid_batch(stack) -> tuple[list[tuple[str, str]], set[tuple[str, str]]]:
    """Enqueue one job of ``BATCH`` messages (on ``otp``: the phones' OTPs keep that queue
    busy, and it goes first); SIGKILL the worker once the providers hold all of them, each
    answer taking ``IN_FLIGHT_S``. Returns them, and every send that may have been in
    flight at the kill (what either provider received since the delay began: on a loaded
    machine Twilio's breaker may have opened on slow OTP answers, and the batch goes to
    Africa's Talking instead)."""
    providers = (stack.fake.twilio, stack.fake.africastalking)
    before = [len(provider.received) for provider in providers]
    for provider in providers:
        provider.delay = IN_FLIGHT_S
    sms = [(f"{BATCH_PREFIX}{n:08d}", f"Batch message {n}") for n in range(BATCH)]
    with stack.db.write() as session:
        ids = [outbox.record_message(session, phone=phone, kind="notice", body=body, lang="en",
                                     budget=None, dedupe_key=f"faults:batch:{phone}").id
               for phone, body in sms]
    queues = redis.Redis.from_url(stack.redis.url)
    outbox.enqueue_messages(queues, ids, queue="otp", settings=SmsSettings())
    assert wait_until(lambda: set(sms) <= _held(stack.fake), timeout=30)
    stack.workers[0].kill9()
    held = _held(stack.fake, since=before)
    for provider in providers:
        provider.delay = 0.0
    return sms, held


def _held(fake, since: list[int] | None = None) -> set[tuple[str, str]]:
    """(phone, text) of the requests either provider's fake has received, answered or not
    (``since``: the count each had received before)."""
    twilio_since, at_since = since or (0, 0)
    held = {(r["form"].get("To"), r["form"].get("Body"))
            for r in list(fake.twilio.received)[twilio_since:]}
    for request in list(fake.africastalking.received)[at_since:]:
        form = request["form"]
        held |= {(phone, form.get("message")) for phone in str(form.get("to", "")).split(",")}
    return held


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
