"""An OTP until it expires: retried every few seconds, waiting for a circuit's probe rather
than using up a retry, every skipped try in the ledger, never sent after its expiry, and a
hung primary paid for once. Real workers in this process, real Redis and SQLite, providers
over HTTP (tests/sms/fake_provider.py)."""
from __future__ import annotations

import datetime as dt
import re
import time

import pytest
from sqlalchemy import select

from gateway.config import SmsSettings
from gateway.sms import dispatch, otp_codes, outbox, retries
from gateway.sms.sweeper import sweep
from gateway.storage.ledger import Message, SendAttempt
from gateway.storage.models import utcnow
from gateway.text.times import as_utc
from workers import jobs
from workers.worker import build_context

from .support import attempts, drive, message, record, run_worker, with_sms

FAST = {"otp_retry_seconds": 1, "breaker_fail_max": 2, "breaker_reset_seconds": 3}
RECOVERY_BOUND_S = 5  # issue 16: providers back, the OTP accepted within 5 s


@pytest.fixture
def fast_ctx(sms_settings, db, redis_client):
    """OTPs retried every second; a circuit opens after 2 failures, probes after 3 s."""
    context = build_context(with_sms(sms_settings, **FAST), redis_client)
    yield context
    jobs.install(None)


def _otp(ctx, db, key="otp1", phone="+919812345678", ttl_s=60) -> int:
    mid = record(db, phone=phone, kind="otp", key=key, body="****** is your code",
                 expires_at=utcnow() + dt.timedelta(seconds=ttl_s))
    otp_codes.seal(ctx.redis, ctx.settings.secret_key, mid, "123456", ttl_s)
    return mid


def _enqueue_otps(ctx, ids):
    outbox.enqueue_messages(ctx.redis, ids, queue="otp", settings=ctx.settings.sms)


def _rows(db, mid) -> list[SendAttempt]:
    with db.read() as session:
        return session.scalars(select(SendAttempt).where(SendAttempt.message_id == mid)
                               .order_by(SendAttempt.id)).all()


def _rounds(rows: list[SendAttempt]) -> list[list[SendAttempt]]:
    """Attempt rows grouped by round: a round's rows are written together."""
    rounds: list[list[SendAttempt]] = []
    for row in rows:
        if rounds and (as_utc(row.at) - as_utc(rounds[-1][-1].at)).total_seconds() < 0.4:
            rounds[-1].append(row)
        else:
            rounds.append([row])
    return rounds


def test_otp_is_retried_every_second_and_sent_soon_after_providers_recover(fast_ctx, fake,
                                                                         db):
    fake.twilio.mode = fake.africastalking.mode = "5xx"
    mid = _otp(fast_ctx, db)
    _enqueue_otps(fast_ctx, [mid])
    plans = []  # (when the round ended, when the next one was planned)

    def note_plan() -> bool:
        row = message(db, mid)
        if row.status == "queued" and (not plans or plans[-1][1] != row.next_attempt_at):
            plans.append((row.updated_at, row.next_attempt_at))
        return row.status == "sent"

    drive(fast_ctx, lambda: note_plan() and False, timeout=6)  # providers down 6 s
    fake.reset()
    recovered = utcnow()
    assert drive(fast_ctx, note_plan, timeout=15)
    sent = message(db, mid)
    assert as_utc(recovered) < as_utc(sent.sent_at) < as_utc(sent.expires_at)
    rounds = _rounds(_rows(db, mid))
    down = [r for r in rounds if as_utc(r[0].at) < recovered]
    waited = [(as_utc(nxt) - as_utc(at)).total_seconds() for at, nxt in plans]
    assert len(plans) >= 2 and max(waited) <= FAST["otp_retry_seconds"] + 0.01, waited
    outcomes = {(a.provider, a.outcome, a.error_code) for r in down for a in r}
    assert ("twilio", "skipped", "circuit_open") in outcomes  # waited for the probe
    failed_rounds = sum(any(a.outcome == "retryable" for a in r) for r in rounds)
    assert sent.retries == failed_rounds  # skipped rounds used up no retry
    after = [a for r in rounds if as_utc(r[0].at) >= recovered for a in r]
    assert [a.outcome for a in after if a.outcome != "skipped"] == ["accepted"], \
        f"accepted {(as_utc(sent.sent_at) - as_utc(recovered)).total_seconds():.1f} s after"
    # the round that took it was planned (a recorded time, not a measured one) within 5 s
    due = (as_utc(plans[-1][1]) - as_utc(recovered)).total_seconds()
    assert due <= RECOVERY_BOUND_S, due


def test_the_default_schedule_plans_an_otp_round_within_5_s_of_providers_coming_back():
    """An OTP round is planned at most a retry interval ahead, or a circuit's reset when it
    waits for the probe, so the first round after a recovery is due within the larger."""
    defaults = SmsSettings()
    assert retries.next_round(defaults, "otp", 0, True, [])[0] == defaults.otp_retry_seconds
    worst = max(defaults.otp_retry_seconds, defaults.breaker_reset_seconds)
    assert worst + retries.MIN_WAIT_S <= RECOVERY_BOUND_S


def test_when_every_circuit_is_open_the_otp_waits_for_a_probe_and_keeps_its_retries(
        fast_ctx, fake, db):
    for breaker in fast_ctx.breakers.values():
        breaker.failed(timed_out=True)
    mid = _otp(fast_ctx, db)
    assert dispatch.send_messages(fast_ctx, [mid], "otp") == {"queued": 1}
    assert attempts(db, mid) == [("twilio", "skipped", "circuit_open"),
                                 ("africastalking", "skipped", "circuit_open")]
    waiting = message(db, mid)
    assert waiting.retries == 0
    wait_s = (as_utc(waiting.next_attempt_at) - as_utc(waiting.updated_at)).total_seconds()
    assert wait_s <= FAST["breaker_reset_seconds"]  # the probe, not the retry interval
    assert fake.twilio.received == fake.africastalking.received == []


def test_a_bulk_message_waits_for_the_probe_too_not_its_retry_interval(fast_ctx, fake, db):
    for breaker in fast_ctx.breakers.values():
        breaker.failed(timed_out=True)
    mid = record(db, kind="reminder")
    assert dispatch.send_messages(fast_ctx, [mid], "bulk") == {"queued": 1}
    waiting = message(db, mid)
    assert waiting.retries == 0
    assert (as_utc(waiting.next_attempt_at) - as_utc(waiting.updated_at)).total_seconds() <= 1


def test_a_spent_rate_limit_is_a_skipped_try_in_the_ledger(sms_settings, fake, db,
                                                           redis_client):
    slow = with_sms(sms_settings, providers=[
        {**p, "rate_per_second": 0.001} for p in sms_settings.model_dump()["sms"]["providers"]])
    ctx = build_context(slow, redis_client)
    try:
        ids = []
        for i, ended in enumerate(["sent", "sent", "queued"]):  # one at a time
            ids.append(record(db, key=f"r{i}", phone=f"+91981234560{i}"))
            assert dispatch.send_messages(ctx, ids[-1:]) == {ended: 1}
    finally:
        jobs.install(None)
    assert attempts(db, ids[1]) == [("twilio", "skipped", "rate_limited"),
                                    ("africastalking", "accepted", "")]
    assert attempts(db, ids[2]) == [("twilio", "skipped", "rate_limited"),
                                    ("africastalking", "skipped", "rate_limited")]
    assert message(db, ids[2]).retries == 0


def test_a_hung_primary_costs_one_timeout_across_many_otps(sms_settings, fake, db,
                                                           redis_client):
    """12 OTPs at once, 4 senders: at most the 4 in flight wait for the hung primary."""
    fake.twilio.mode, fake.twilio.hang_seconds = "hang", 3.0
    ctx = build_context(with_sms(sms_settings, send_threads=4), redis_client)
    try:
        ids = [_otp(ctx, db, key=f"o{i}", phone=f"+9198123456{i:02d}") for i in range(12)]
        _enqueue_otps(ctx, ids)
        run_worker(ctx)
        assert len(fake.twilio.received) <= 4
        timeouts = [[a for a in attempts(db, i) if a[2] == "timeout"] for i in ids]
        assert all(len(t) <= 1 for t in timeouts)
        assert {message(db, i).provider for i in ids} == {"africastalking"}
        # another worker (its own breaker objects, the same Redis) does not try it at all
        other = build_context(ctx.settings, redis_client)
        later = [_otp(other, db, key=f"p{i}", phone=f"+9198123457{i:02d}") for i in range(5)]
        before = len(fake.twilio.received)
        assert dispatch.send_messages(other, later, "otp") == {"sent": 5}
        assert len(fake.twilio.received) == before
    finally:
        jobs.install(None)


def test_an_otp_is_never_sent_after_it_expires(fast_ctx, fake, db):
    fake.twilio.mode = fake.africastalking.mode = "5xx"
    mid = _otp(fast_ctx, db, ttl_s=3)
    _enqueue_otps(fast_ctx, [mid])
    assert drive(fast_ctx, lambda: message(db, mid).status != "queued"
                 and message(db, mid).status != "sending", timeout=10)
    ended = message(db, mid)
    assert ended.status == "expired"
    assert [r for r in _rows(db, mid) if as_utc(r.at) >= as_utc(ended.expires_at)] == []
    fake.reset()
    drive(fast_ctx, lambda: False, timeout=1.5)
    assert fake.twilio.delivered() == fake.africastalking.delivered() == []


def test_the_sweeper_rebuilds_a_retry_whose_wake_up_redis_lost(fast_ctx, fake, db):
    fake.twilio.mode = fake.africastalking.mode = "5xx"
    mid = record(db)
    assert dispatch.send_messages(fast_ctx, [mid]) == {"queued": 1}
    assert sweep(fast_ctx)["requeued"] == 0  # its retry is not due yet
    fast_ctx.redis.flushdb()  # Redis restarted empty: the scheduled wake-up is gone
    fake.reset()
    with db.write() as session:  # a minute passes
        row = session.get(Message, mid)
        row.next_attempt_at -= dt.timedelta(minutes=1)
    assert sweep(fast_ctx)["requeued"] == 1
    run_worker(fast_ctx)
    assert message(db, mid).status == "sent"


def test_a_retry_is_a_scheduled_rq_job_at_its_time(fast_ctx, fake, db):
    from rq import Queue
    from rq.registry import ScheduledJobRegistry

    fake.twilio.mode = fake.africastalking.mode = "5xx"
    mid = _otp(fast_ctx, db)
    dispatch.send_messages(fast_ctx, [mid], "otp")
    registry = ScheduledJobRegistry(queue=Queue("otp", connection=fast_ctx.redis))
    [job_id] = registry.get_job_ids()
    due = registry.get_scheduled_time(job_id)
    planned = as_utc(message(db, mid).next_attempt_at)
    assert 0 <= (due - planned).total_seconds() <= 1  # the whole second after it
    assert re.search(r"next try in \d", message(db, mid).status_reason)


@pytest.mark.parametrize("seconds", [0.2])
def test_no_try_starts_that_could_outlast_the_claim(fast_ctx, fake, db, seconds):
    """So the sweeper's ``stale_after_seconds`` hands back only what a dead worker left."""
    from gateway.sms.claims import claim

    [claimed] = claim(db, [record(db)])
    result = dispatch.deliver(fast_ctx, claimed, "notify", deadline=time.monotonic() + seconds)
    assert (result.status.value, result.attempts) == ("queued", [])
    assert fake.twilio.received == []
