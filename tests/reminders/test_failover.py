"""Reminders fail over on an undelivered report (once per provider), and a district's
"re-send to everyone not reached" tries another provider than the one that just failed."""
from __future__ import annotations

import datetime as dt

import pytest
from twilio.request_validator import RequestValidator

from gateway.reminders.keys import reminder_key, resend_key
from gateway.sms import outbox
from gateway.sms.sweeper import sweep
from gateway.storage.ledger import Message, MessageKind
from tests.sms.support import API_KEY, AT_SECRET, PHONE, TWILIO_TOKEN, message, run_worker
from workers import jobs
from workers.worker import build_context

from .support import IST, book, center, person, slot


@pytest.fixture
def ctx(sms_app, sms_settings, db, redis_client):
    context = build_context(sms_settings, redis_client)
    yield context
    jobs.install(None)


@pytest.fixture
def appointment(db):
    """A booking two days ahead, so its 2 h reminder is not yet due."""
    day = dt.datetime.now(IST).date() + dt.timedelta(days=2)
    return book(db, person(db, phone=PHONE), slot(db, center(db), day, dt.time(10), dt.time(12)),
                today=day - dt.timedelta(days=2))


def _reminder(ctx, db, appointment_id: int) -> int:
    with db.write() as session:
        mid = outbox.record_message(session, budget=None, phone=PHONE, kind=MessageKind.REMINDER,
                                    body="Your vaccination is tomorrow", lang="en",
                                    dedupe_key=reminder_key(appointment_id, 1440)).id
    outbox.enqueue_messages(ctx.redis, [mid], queue="bulk", settings=ctx.settings.sms)
    run_worker(ctx)
    return mid


def _twilio_undelivered(client, sid: str, code: str = "30003"):
    form = {"MessageSid": sid, "MessageStatus": "undelivered", "ErrorCode": code}
    url = "http://localhost/sms/twilio/status"
    signature = RequestValidator(TWILIO_TOKEN).compute_signature(url, form)
    assert client.post(url, data=form, headers={"X-Twilio-Signature": signature}
                       ).status_code == 200


def test_an_undelivered_reminder_fails_over_once_per_provider(sms_client, ctx, db, fake,
                                                              appointment):
    mid = _reminder(ctx, db, appointment)
    _twilio_undelivered(sms_client, message(db, mid).provider_message_id)
    assert sweep(ctx)["resent"] == 1
    run_worker(ctx)
    assert message(db, mid).provider == "africastalking"
    assert len(fake.africastalking.delivered()) == len(fake.twilio.received) == 1
    sms_client.post(f"/sms/africastalking/delivery?secret={AT_SECRET}", data={
        "id": message(db, mid).provider_message_id, "status": "Failed",
        "failureReason": "DeliveryFailure"})
    assert sweep(ctx)["resent"] == 0  # both providers had their try
    assert message(db, mid).status == "failed"


def test_a_district_resend_goes_to_another_provider_first(sms_client, ctx, db, fake,
                                                          appointment):
    mid = _reminder(ctx, db, appointment)
    _twilio_undelivered(sms_client, message(db, mid).provider_message_id, "30005")  # final
    fake.reset()
    reply = sms_client.post("/api/v1/districts/Patna/reminders/resend", json={"days": 3},
                            headers={"X-API-Key": API_KEY})
    assert reply.status_code == 202 and reply.json["resent"] == 1
    run_worker(ctx)
    with db.read() as session:
        resent = session.query(Message).filter_by(dedupe_key=resend_key(appointment, 1)).one()
        assert (resent.try_last, resent.provider, resent.status) == (
            "twilio", "africastalking", "sent")
    assert fake.twilio.received == [] and len(fake.africastalking.delivered()) == 1
