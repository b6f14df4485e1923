"""SQL is the record: after Redis is wiped, the sweeper re-enqueues and nothing is lost."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from gateway.sms import outbox
from gateway.sms.sweeper import sweep
from gateway.storage.ledger import Message, SendAttempt
from gateway.storage.models import utcnow
from workers.worker import Worker

from .support import attempts, drive, message, record, run_worker

LATER = dt.timedelta(seconds=30)


def _enqueue(ctx, ids):
    return outbox.enqueue_messages(ctx.redis, ids, settings=ctx.settings.sms)


def test_redis_wiped_mid_run_loses_and_duplicates_nothing(patient_ctx, fake, db):
    ctx = patient_ctx
    ids = [record(db, key=f"m{i}", phone=f"+9198000000{i:02d}") for i in range(40)]
    _enqueue(ctx, ids)
    batch = ctx.settings.sms.queues["notify"].batch_size
    Worker(["notify"], connection=ctx.redis).work(burst=True, max_jobs=1)
    ctx.redis.flushdb()  # Redis restarted empty: the queued jobs are gone
    run_worker(ctx)
    assert sum(message(db, i).status == "sent" for i in ids) == batch
    report = sweep(ctx, now=utcnow() + LATER)
    assert report["requeued"] == 40 - batch
    assert drive(ctx, lambda: {message(db, i).status for i in ids} == {"sent"})
    phones = [f["To"] for f in fake.twilio.delivered()] + \
        [f["to"] for f in fake.africastalking.delivered()]
    assert len(phones) == len(set(phones)) == 40


def test_sweeper_leaves_messages_whose_job_is_still_queued(ctx, db):
    _enqueue(ctx, [record(db)])
    assert sweep(ctx, now=utcnow() + LATER)["requeued"] == 0


def test_sweeper_hands_back_a_message_whose_worker_died(ctx, fake, db):
    from gateway.sms.claims import claim

    mid = record(db)
    claim(db, [mid])  # the worker claimed it, then died
    stale = dt.timedelta(seconds=ctx.settings.sms.stale_after_seconds + 1)
    report = sweep(ctx, now=utcnow() + stale)
    assert (report["unstuck"], report["requeued"]) == (1, 1)
    run_worker(ctx)
    assert message(db, mid).status == "sent"


def test_sweeper_requeues_a_message_whose_worker_was_killed_mid_send(ctx, fake, db):
    from rq import Queue
    from rq.job import Job

    from gateway.sms.claims import claim

    mid = record(db)
    [job_id] = _enqueue(ctx, [mid])
    Queue("notify", connection=ctx.redis).remove(job_id)  # a worker took it,
    Job.fetch(job_id, connection=ctx.redis).set_status("started")
    claim(db, [mid])  # claimed it, and was killed -9: the job stays "started" in Redis
    stale = dt.timedelta(seconds=ctx.settings.sms.stale_after_seconds + 1)
    report = sweep(ctx, now=utcnow() + stale)
    assert (report["unstuck"], report["requeued"]) == (1, 1)
    run_worker(ctx)
    assert message(db, mid).status == "sent"
    assert len(fake.twilio.received) == 1


def test_unconfirmed_confirmation_is_resent_once_per_provider(ctx, fake, db):
    mid = record(db)
    _enqueue(ctx, [mid])
    run_worker(ctx)
    no_report = dt.timedelta(seconds=ctx.settings.sms.delivery_report_timeout_seconds + 1)
    assert sweep(ctx, now=utcnow() + no_report)["resent"] == 1
    run_worker(ctx)
    assert [(p, o) for p, o, _ in attempts(db, mid)] == [("twilio", "accepted"),
                                                         ("africastalking", "accepted")]
    assert sweep(ctx, now=utcnow() + no_report)["resent"] == 0  # no provider left


def test_unconfirmed_message_is_not_resent_after_expiry(ctx, fake, db):
    mid = record(db, kind="otp", expires_at=utcnow() + dt.timedelta(seconds=60))
    from gateway.sms import otp_codes

    otp_codes.seal(ctx.redis, ctx.settings.secret_key, mid, "123456", 60)
    _enqueue(ctx, [mid])
    run_worker(ctx)
    assert sweep(ctx, now=utcnow() + dt.timedelta(seconds=120))["resent"] == 0
    with db.read() as session:
        assert session.scalar(select(func.count()).select_from(SendAttempt)) == 1


def test_queued_message_past_expiry_is_marked_expired(ctx, db):
    mid = record(db, kind="otp", expires_at=utcnow() + dt.timedelta(seconds=5))
    assert sweep(ctx, now=utcnow() + LATER)["expired"] == 1
    assert message(db, mid).status == "expired"


@pytest.mark.parametrize("hours", [25])
def test_message_never_accepted_is_given_up_after_a_day(ctx, db, hours):
    mid = record(db)
    sweep(ctx, now=utcnow() + dt.timedelta(hours=hours))
    assert message(db, mid).status == "failed"
    with db.read() as session:
        assert session.get(Message, mid).status_reason.startswith("gave up")


@pytest.fixture
def no_callback_ctx(sms_settings, db, redis_client):
    """Twilio first, with no ``sms.public_base_url``: its sends ask for no status callback."""
    from workers import jobs
    from workers.worker import build_context

    sms = sms_settings.sms.model_copy(update={"public_base_url": ""})
    context = build_context(sms_settings.model_copy(update={"sms": sms}), redis_client)
    yield context
    jobs.install(None)


def test_a_message_sent_without_a_status_callback_is_never_resent(no_callback_ctx, fake, db):
    mid = record(db)
    _enqueue(no_callback_ctx, [mid])
    run_worker(no_callback_ctx)
    assert "StatusCallback" not in fake.twilio.received[0]["form"]
    no_report = dt.timedelta(seconds=no_callback_ctx.settings.sms.delivery_report_timeout_seconds
                             + 1)
    assert sweep(no_callback_ctx, now=utcnow() + no_report)["resent"] == 0
    run_worker(no_callback_ctx)
    assert message(db, mid).status == "sent"
    assert len(fake.twilio.received) == 1 and fake.africastalking.received == []


def test_a_send_that_asked_for_a_report_says_so_in_the_ledger(ctx, fake, db):
    mid = record(db)
    _enqueue(ctx, [mid])
    run_worker(ctx)
    callback = fake.twilio.received[0]["form"]["StatusCallback"]
    assert callback == "http://localhost/sms/twilio/status"
    with db.read() as session:
        assert session.scalars(select(SendAttempt.report_requested)).all() == [True]


def test_an_undelivered_message_with_no_provider_left_fails_for_good(ctx, fake, db):
    from gateway.sms.reports import apply_report
    from gateway.storage.ledger import Verdict

    mid = record(db, kind="reminder")
    _enqueue(ctx, [mid])
    for _ in range(2):  # each provider sends it once and reports it undelivered
        run_worker(ctx)
        with db.write() as session:
            apply_report(session, message(db, mid).provider_message_id, Verdict.FAIL_OVER,
                         "undelivered: handset off")
        sweep(ctx)
    failed = message(db, mid)
    assert (failed.status, failed.status_reason) == ("failed", "undelivered: handset off")
    assert sweep(ctx)["resent"] == 0
    assert len(fake.twilio.received) == len(fake.africastalking.received) == 1
