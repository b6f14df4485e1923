"""Fault b: redis-server killed (-9) and started again EMPTY on the same socket mid-run.

Sessions in progress are lost (acceptable): their callers get a polite END or, on redial, a
fresh first menu, never a 500. Accepted bookings, their confirmation SMS and upstream events
are not lost: the sweepers re-enqueue from SQL what the queues forgot. An OTP accepted just
before the wipe whose code lived only in Redis cannot be verified any more, so it is not
sent either (the ledger says why); it is counted in the note.
"""
from __future__ import annotations

import time

import pytest
import redis

from .phones import Phones
from .reconcile import reconcile, settle

pytestmark = [pytest.mark.faults, pytest.mark.timeout(150)]


def test_redis_restarted_empty_loses_no_acknowledged_booking_message_or_event(
        make_stack, report):
    stack = make_stack()
    with Phones(stack.url, scenario=2, callers=4, otp=1) as phones:
        phones.wait_for("booking", 3, timeout=30)
        client = redis.Redis.from_url(stack.redis.url)
        sessions_before = len(client.keys("vaxgate:ussd:*"))
        client.set("faults:before-the-kill", 1)
        stack.kill_redis()
        time.sleep(1.5)  # callers meet a dead Redis
        stack.restart_redis()
        restart = time.time()
        assert not client.exists("faults:before-the-kill")  # started empty: nothing survived
        restarted = stack.supervise()
        phones.wait_for("booking", 4, timeout=40)
    traffic = phones.traffic
    assert settle(stack.db, phones.prefix, timeout=60) == []
    result = reconcile("redis-server kill -9, restarted empty", stack.db, traffic, stack.fake,
                       stack.upstream, phones.prefix)
    result.note = (f"{sessions_before} session keys lost; "
                   f"{sum(traffic.endings.values())} sessions ended politely, every redial a "
                   f"fresh menu once Redis was back; {result.expired_otps} OTPs void with "
                   f"their Redis-only code; {restarted[0]} RQ worker(s) quit, restarted")
    report(result)
    assert traffic.server_errors() == 0, (traffic.statuses, stack.web.errors())
    assert all(status == 200 for _, status, _ in traffic.probes), traffic.probes
    assert traffic.menus_on_redial(since=restart + 0.5), traffic.probes
    assert len(traffic.acked("booking")) >= 7
    assert result.lost == [] and result.duplicated == [], (result.lost, result.duplicated)
    assert result.half_written == [], result.half_written
