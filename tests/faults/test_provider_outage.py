"""Fault d: every SMS provider fails (HTTP 503) for 60 s, then recovers.

Phones keep booking and portals keep asking for OTPs (valid 30 s here) through the outage.
Afterwards every confirmation and every OTP still valid is delivered exactly once, and an
OTP whose time ran out during the outage is never sent (the worker checks ``expires_at``
before every try, the sweeper marks it expired). The 60 s of real time run in a background
thread from the start of the session (``provider_outage`` in conftest.py), beside the other
faults, each on its own stack.
"""
from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from sqlalchemy import select

from gateway.storage import Message

from .phones import Ack, Phones, Traffic
from .reconcile import OTP_WORDS, Reconciliation, deliveries, reconcile, settle
from .stack import Stack

pytestmark = [pytest.mark.faults, pytest.mark.timeout(240)]
OUTAGE_S, OTP_TTL_S = 60, 30
SLACK_S = 20  # after recovery: breaker probe, RQ retry, sweeper re-enqueue
PROVIDER_TIMEOUT_S = 2  # sms.providers[*].timeout_seconds in stack.py
STEP_PAUSE_S = 0.05  # ≈ 1 journey/s: ~150 journeys in the scenario


@dataclass
class OutageRun:
    result: Reconciliation
    traffic: Traffic
    failed: float  # time.time() when the providers started failing
    recovered: float  # ... and when they answered again
    open_items: list[str]
    web_errors: str  # the web log from its first unhandled error, if any
    otps: list[tuple[Ack, str, dt.datetime, dt.datetime | None, int]] = field(
        default_factory=list)  # (ack, status, expires_at, sent_at, deliveries)


def run_provider_outage(root: Path) -> OutageRun:
    """The whole scenario on its own stack; stopped before returning."""
    stack = Stack(root, config={"otp": {"ttl_seconds": OTP_TTL_S}})
    try:
        stack.start()
        # The caller pauses between steps so the backlog that must drain after recovery (a
        # confirmation SMS and two upstream events per journey, on one RQ worker) does not
        # grow with the gateway's speed: flat out, a faster gateway made more than the worker
        # could send within the settle timeout.
        with Phones(stack.url, scenario=4, callers=1, otp=1, otp_pause=1.0,
                    step_pause=STEP_PAUSE_S) as phones:
            phones.wait_for("booking", 2, timeout=30)
            stack.fake.twilio.mode = stack.fake.africastalking.mode = "5xx"
            failed = time.time()
            phones.stop.wait(OUTAGE_S)
            stack.fake.twilio.mode = stack.fake.africastalking.mode = "ok"
            recovered = time.time()
            phones.wait_for("booking", 2, timeout=30)
        still_open = settle(stack.db, phones.prefix, timeout=60)
        run = OutageRun(reconcile("every SMS provider down 60 s", stack.db, phones.traffic,
                                  stack.fake, stack.upstream, phones.prefix),
                        phones.traffic, failed, recovered, still_open, stack.web.errors())
        got = deliveries(stack.fake)
        with stack.db.read() as session:
            for ack in phones.traffic.acked("otp"):
                row = session.scalars(select(Message).where(Message.phone == ack.phone)).one()
                sent = sum(n for (phone, body), n in got.items()
                           if phone == ack.phone and OTP_WORDS in (body or ""))
                run.otps.append((ack, row.status, as_utc(row.expires_at), as_utc(row.sent_at),
                                 sent))
        return run
    finally:
        stack.close()


def as_utc(value: dt.datetime | None) -> dt.datetime | None:
    return value.replace(tzinfo=dt.UTC) if value and not value.tzinfo else value


def test_provider_outage_delivers_after_recovery_and_never_sends_expired_otps(
        provider_outage, report):
    run = provider_outage.result(timeout=220)
    recovered = dt.datetime.fromtimestamp(run.recovered, dt.UTC)
    expired = [o for o in run.otps if o[0].at > run.failed and o[2] < recovered]
    valid = [o for o in run.otps if o[2] > recovered + dt.timedelta(seconds=SLACK_S)]
    result = run.result
    late = sum(1 for o in run.otps if o[4] and o[0].at < run.recovered - 1)
    waited = [(o[3] - recovered).total_seconds() for o in run.otps
              if o[4] and o[0].at < run.recovered - 1 and o[3]]
    result.note = (f"{len(expired)} OTPs expired in the outage, none sent; {late} OTPs and "
                   f"every confirmation sent after recovery (OTPs within "
                   f"{max(waited, default=0):.1f} s of it)")
    report(result)
    assert run.open_items == []
    assert run.traffic.server_errors() == 0, (run.traffic.statuses, run.web_errors)
    assert expired
    assert [o for o in expired if o[1] not in ("expired", "failed") or o[4]] == []
    assert late > 0
    assert [o for o in valid if o[1] != "sent" or o[4] != 1] == []
    # checked before every try: no send begins after expiry (one may end just after it)
    try_s = dt.timedelta(seconds=PROVIDER_TIMEOUT_S)
    assert [o for o in run.otps if o[4] and o[3] > o[2] + try_s] == []
    assert result.lost == [] and result.duplicated == [], (result.lost, result.duplicated)
    assert result.half_written == [], result.half_written
