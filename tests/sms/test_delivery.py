"""Ledger first, then RQ: failover, idempotency, expiry and the breaker, with real workers."""
from __future__ import annotations

import datetime as dt

import pytest

from gateway.sms import dispatch, outbox, templates
from gateway.sms.errors import TemplateError
from gateway.storage.ledger import Message
from gateway.storage.models import utcnow
from gateway.text.encoding import GSM7, UCS2
from gateway.text.times import as_utc

from .support import PHONE, attempts, message, record, run_worker


def _enqueue(ctx, *ids, queue="notify"):
    outbox.enqueue_messages(ctx.redis, list(ids), queue=queue, settings=ctx.settings.sms)


def test_message_is_delivered_by_the_first_provider(ctx, fake, db):
    mid = record(db)
    _enqueue(ctx, mid)
    run_worker(ctx)
    assert message(db, mid).status == "sent"
    assert attempts(db, mid) == [("twilio", "accepted", "")]
    assert fake.twilio.received[0]["form"]["Body"] == "Booked"


@pytest.mark.parametrize("mode", ["5xx", "hang", "429", "malformed"])
def test_message_fails_over_to_next_provider(ctx, fake, db, mode):
    fake.twilio.mode, fake.twilio.hang_seconds = mode, 2.0
    mid = record(db)
    _enqueue(ctx, mid)
    run_worker(ctx)
    sent = message(db, mid)
    assert (sent.status, sent.provider) == ("sent", "africastalking")
    outcomes = attempts(db, mid)
    assert [(p, o) for p, o, _ in outcomes] == [("twilio", "retryable"),
                                                ("africastalking", "accepted")]
    assert len(fake.africastalking.received) == 1


def test_permanent_error_fails_without_trying_other_providers(ctx, fake, db):
    fake.twilio.mode = "permanent"
    mid = record(db)
    _enqueue(ctx, mid)
    run_worker(ctx)
    failed = message(db, mid)
    assert (failed.status, failed.status_reason) == ("failed", "twilio: twilio_21211")
    assert fake.africastalking.received == []


def test_every_provider_failing_puts_the_message_back_for_a_retry(ctx, fake, db):
    fake.twilio.mode = fake.africastalking.mode = "5xx"
    mid = record(db)
    assert dispatch.send_messages(ctx, [mid]) == {"queued": 1}
    again = message(db, mid)
    assert (again.status, again.retries) == ("queued", 1)
    assert as_utc(again.next_attempt_at) > utcnow()  # not before its retry interval
    assert dispatch.send_messages(ctx, [mid]) == {}  # a job running early claims nothing
    fake.reset()
    with db.write() as session:
        session.get(Message, mid).next_attempt_at = utcnow()
    assert dispatch.send_messages(ctx, [mid]) == {"sent": 1}


def test_job_running_twice_sends_once(ctx, fake, db):
    mid = record(db)
    _enqueue(ctx, mid)
    _enqueue(ctx, mid)
    run_worker(ctx)
    assert dispatch.send_messages(ctx, [mid]) == {}
    assert len(fake.twilio.received) == 1


def test_same_dedupe_key_records_one_message(db):
    first = record(db, key="confirm:appt:7")
    second = record(db, key="confirm:appt:7", body="something else")
    assert first == second
    assert message(db, first).body == "Booked"


def test_expired_message_is_never_sent(ctx, fake, db):
    mid = record(db, kind="notice", expires_at=utcnow() - dt.timedelta(seconds=1))
    _enqueue(ctx, mid)
    run_worker(ctx)
    assert message(db, mid).status == "expired"
    assert fake.twilio.received == []


def test_open_circuit_skips_the_failing_provider_for_everyone(ctx, fake, db):
    fake.twilio.mode = "5xx"
    first = [record(db, key=f"a{i}") for i in range(ctx.settings.sms.breaker_fail_max)]
    dispatch.send_messages(ctx, first)
    later = [record(db, key=f"b{i}") for i in range(5)]
    _enqueue(ctx, *later)
    run_worker(ctx)
    assert len(fake.twilio.received) == ctx.settings.sms.breaker_fail_max
    assert all(message(db, i).provider == "africastalking" for i in first + later)
    assert {attempts(db, i)[0] for i in later} == {("twilio", "skipped", "circuit_open")}


def test_otp_goes_to_otp_queue_and_bulk_reminders_wait(ctx, fake, db):
    reminder = record(db, kind="reminder", key="r")
    otp_like = record(db, kind="notice", key="n")
    _enqueue(ctx, reminder, queue="bulk")
    _enqueue(ctx, otp_like, queue="otp")
    run_worker(ctx)
    bodies = [r["form"]["Body"] for r in fake.twilio.received]
    assert len(bodies) == 2
    with ctx.db.read():
        assert message(db, otp_like).sent_at <= message(db, reminder).sent_at


def test_routes_prefer_a_provider_for_a_prefix(ctx, fake, db):
    from gateway.config import SmsRouteSettings
    from gateway.sms.router import Router

    router = Router(["twilio", "africastalking"],
                    [SmsRouteSettings(prefix="+91", prefer=["africastalking"]),
                     SmsRouteSettings(prefix="+9198", prefer=["twilio"])])
    assert router.order("+919712345678") == ["africastalking", "twilio"]
    assert router.order("+919812345678") == ["twilio", "africastalking"]
    assert router.order("+254712345678") == ["twilio", "africastalking"]
    assert router.order("+919712345678", exclude={"africastalking"}) == ["twilio"]


def test_latin_look_alikes_are_normalised_to_stay_gsm7(db):
    mid = record(db, body="Centre \u201cPHC\u201d\u00a0opens 9\u201311")
    stored = message(db, mid)
    assert (stored.body, stored.encoding, stored.segments) == (
        'Centre "PHC" opens 9-11', GSM7, 1)


@pytest.mark.parametrize(("lang", "encoding"), [("en", GSM7), ("hi", UCS2), ("bn", UCS2)])
def test_confirmation_template_renders_in_each_language(lang, encoding, db):
    text = templates.render("booking_confirmed", lang, reference="AB12CD", center="PHC Rampur",
                            date=dt.date(2026, 11, 23), window=(dt.time(9), dt.time(11)))
    assert "AB12CD" in text and "09:00-11:00" in text
    mid = record(db, body=text, key=lang)
    assert message(db, mid).encoding == encoding


def test_template_missing_variable_is_named():
    with pytest.raises(TemplateError, match="reference"):
        templates.render("booking_cancelled", "en", center="PHC", date="Mon 23 Nov")


def test_record_message_refuses_a_number_that_is_not_e164(db):
    with pytest.raises(ValueError, match="E.164"):
        record(db, phone="9812345678")


def test_phone_is_masked_in_worker_logs(ctx, fake, db, caplog):
    caplog.set_level("INFO", logger="vaxgate.sms")
    fake.twilio.mode = "5xx"
    _enqueue(ctx, record(db))
    run_worker(ctx)
    assert "+91******5678" in caplog.text and PHONE not in caplog.text
