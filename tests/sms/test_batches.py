"""Messages in batches: many ids per job, sent several at once, claimed once, settled
together; nothing lost, nothing sent twice."""
from __future__ import annotations

from collections import Counter

import pytest
from pydantic import ValidationError
from rq import Queue

from gateway.config import SmsSettings
from gateway.sms import claims, dispatch, outbox
from gateway.sms.claims import Settled
from gateway.storage.ledger import MessageStatus
from workers import jobs
from workers.worker import build_context

from .support import attempts, count_attempts, message, record, run_worker, with_sms


@pytest.fixture
def four_senders(patient_ctx, redis_client):
    context = build_context(with_sms(patient_ctx.settings, send_threads=4), redis_client)
    yield context
    jobs.install(None)


def test_a_batch_reaches_every_phone_once_with_its_own_text(four_senders, fake, db):
    fake.twilio.delay = 0.05
    ids = [record(db, kind="reminder", key=f"r{i}", phone=f"+9198000001{i:02d}",
                  body=f"Reminder {i}") for i in range(48)]
    job_ids = outbox.enqueue_messages(four_senders.redis, ids, queue="bulk",
                                      settings=four_senders.settings.sms)
    assert len(job_ids) == 2  # 32 per bulk job
    run_worker(four_senders)
    got = Counter([(f["To"], f["Body"]) for f in fake.twilio.delivered()] +
                  [(f["to"], f["message"]) for f in fake.africastalking.delivered()])
    assert got == Counter({(f"+9198000001{i:02d}", f"Reminder {i}"): 1 for i in range(48)})
    assert {message(db, i).status for i in ids} == {"sent"}
    assert count_attempts(db) == 48


def test_a_job_takes_other_waiting_messages_of_its_queue_but_none_of_another(ctx, fake, db):
    notices = [record(db, kind="notice", key=f"n{i}", phone=f"+9198000002{i:02d}")
            for i in range(5)]
    reminder = record(db, kind="reminder", key="r")
    assert dispatch.send_messages(ctx, notices[:1], "notify") == {"sent": 5}
    assert message(db, reminder).status == "queued"


def test_a_claimed_message_is_not_claimed_again(db):
    mid = record(db)
    assert [m.id for m in claims.claim(db, [mid])] == [mid]
    assert claims.claim(db, [mid], kinds=["confirmation"], limit=10) == []


def test_settling_leaves_alone_a_message_the_sweeper_handed_back(db):
    mid = record(db)
    [claimed] = claims.claim(db, [mid])
    from sqlalchemy import update

    from gateway.storage.ledger import Message

    with db.write() as session:  # the sweeper: "worker stopped mid-send"
        session.execute(update(Message).where(Message.id == mid).values(status="queued"))
    row = claims.attempt_row(mid, "twilio", "accepted", provider_message_id="SM1")
    claims.settle(db, [Settled(claimed, MessageStatus.SENT, attempts=[row], provider="twilio",
                               provider_message_id="SM1")])
    assert message(db, mid).status == "queued"
    assert attempts(db, mid) == [("twilio", "accepted", "")]  # what happened is kept


def test_jobs_wait_in_their_queue_with_ids_and_queue_name(ctx, db):
    ids = [record(db, kind="otp", key=f"o{i}") for i in range(3)]
    outbox.enqueue_messages(ctx.redis, ids, queue="otp", settings=ctx.settings.sms)
    [job] = Queue("otp", connection=ctx.redis).get_jobs()
    assert (job.func_name, job.args) == (outbox.SEND_JOB, (ids, "otp"))


@pytest.mark.parametrize(("queues", "expected"), [
    ({"bulk": {"batch_size": 64}}, {"otp": 16, "notify": 16, "bulk": 64}),
    ({}, {"otp": 16, "notify": 16, "bulk": 32}),
])
def test_each_queue_keeps_its_defaults_for_what_is_not_set(queues, expected):
    sms = SmsSettings(queues=queues)
    assert {q: c.batch_size for q, c in sms.queues.items()} == expected
    assert sms.queues["otp"].read_timeout_seconds < sms.queues["bulk"].read_timeout_seconds


def test_an_unknown_queue_is_named():
    with pytest.raises(ValidationError, match="urgent"):
        SmsSettings(queues={"urgent": {"batch_size": 1}})


@pytest.mark.parametrize(("cap", "queue", "expected"), [
    (None, "otp", (2, 3)), (None, "bulk", (5, 10)), (1.0, "bulk", (1, 1)), (4.0, "otp", (2, 3))])
def test_a_providers_timeout_caps_its_queues_timeouts(cap, queue, expected):
    sms = SmsSettings(providers=[{"name": "t", "kind": "twilio", "timeout_seconds": cap}])
    assert sms.providers[0].timeouts(sms.queues[queue]) == expected


def test_a_claim_too_short_for_one_try_is_refused_naming_the_setting():
    with pytest.raises(ValidationError, match="stale_after_seconds: 10 .* notify queue"):
        SmsSettings(stale_after_seconds=10,
                    providers=[{"name": "t", "kind": "twilio", "timeout_seconds": 20}])
