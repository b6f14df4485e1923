"""The OTP API and the delivery-report webhooks, through the Flask test client."""
from __future__ import annotations

import re

import pytest
from twilio.request_validator import RequestValidator

from gateway.sms import otp_codes
from gateway.web.problems import problem_type
from workers import jobs

from .support import API_KEY, AT_SECRET, PHONE, TWILIO_TOKEN, message, record, run_worker

AUTH = {"X-API-Key": API_KEY}


@pytest.fixture
def worker_ctx(sms_app, ctx):
    return ctx


def _request_otp(client, phone="9812345678"):
    return client.post("/api/v1/otp", json={"phone": phone}, headers=AUTH)


def _code_sent(fake) -> str:
    return re.match(r"(\d{6}) ", fake.twilio.received[-1]["form"]["Body"]).group(1)


def _verify(client, txn, code):
    return client.post("/api/v1/otp/verify", json={"transaction_id": txn, "code": code},
                       headers=AUTH)


def test_otp_is_sent_and_verifies_once(sms_client, worker_ctx, fake):
    reply = _request_otp(sms_client)
    assert reply.status_code == 201
    txn = reply.json["transaction_id"]
    run_worker(worker_ctx)
    code = _code_sent(fake)
    assert _verify(sms_client, txn, code).json == {"verified": True}
    assert _verify(sms_client, txn, code).status_code == 404


def test_otp_is_stored_only_as_hmac(sms_client, worker_ctx, fake, redis_client, db):
    txn = _request_otp(sms_client).json["transaction_id"]
    run_worker(worker_ctx)
    code = _code_sent(fake)
    for key in redis_client.keys("*"):
        kind = redis_client.type(key)
        values = {b"string": lambda k: [redis_client.get(k)],
                  b"hash": lambda k: list(redis_client.hgetall(k).values()),
                  b"list": lambda k: redis_client.lrange(k, 0, -1)}.get(kind, lambda k: [])(key)
        assert all(code.encode() not in (v or b"") for v in values), key
    with db.read() as session:
        from gateway.storage.ledger import Message

        stored = session.query(Message).one()
        assert code not in stored.body and otp_codes.CODE_MASK in stored.body
    assert txn


def test_three_wrong_codes_void_the_transaction(sms_client, worker_ctx, fake):
    txn = _request_otp(sms_client).json["transaction_id"]
    run_worker(worker_ctx)
    code = _code_sent(fake)
    wrong = f"{(int(code) + 1) % 1000000:06d}"
    assert _verify(sms_client, txn, wrong).json["attempts_left"] == 2
    assert _verify(sms_client, txn, wrong).json["attempts_left"] == 1
    assert _verify(sms_client, txn, wrong).status_code == 403
    assert _verify(sms_client, txn, code).status_code == 404


def test_resend_within_cooldown_is_refused_with_retry_after(sms_client):
    assert _request_otp(sms_client).status_code == 201
    again = _request_otp(sms_client)
    assert again.status_code == 429
    assert 1 <= int(again.headers["Retry-After"]) <= 30
    assert again.json["type"] == problem_type("rate_limited")


def test_hourly_cap_is_refused_with_retry_after(sms_client, redis_client):
    for _ in range(5):
        assert _request_otp(sms_client).status_code == 201
        redis_client.delete(f"vaxgate:otp:cooldown:{PHONE}")
    capped = _request_otp(sms_client)
    assert capped.status_code == 429
    assert 3500 <= int(capped.headers["Retry-After"]) <= 3600


def test_expired_otp_cannot_be_verified(sms_client, worker_ctx, fake, redis_client):
    txn = _request_otp(sms_client).json["transaction_id"]
    run_worker(worker_ctx)
    redis_client.delete(f"vaxgate:otp:txn:{txn}")  # what the 180 s TTL does
    assert _verify(sms_client, txn, _code_sent(fake)).status_code == 404


def test_otp_sms_is_not_sent_after_expiry(sms_client, worker_ctx, fake, db):
    from sqlalchemy import update

    from gateway.storage.ledger import Message
    from gateway.storage.models import utcnow

    _request_otp(sms_client)
    with db.write() as session:
        session.execute(update(Message).values(expires_at=utcnow()))
    run_worker(worker_ctx)
    assert fake.twilio.received == []
    with db.read() as session:
        assert session.query(Message).one().status == "expired"


def test_otp_ttl_matches_the_configured_window(sms_client, redis_client):
    txn = _request_otp(sms_client).json["transaction_id"]
    assert 175 <= redis_client.ttl(f"vaxgate:otp:txn:{txn}") <= 180


@pytest.mark.parametrize(("headers", "status"), [
    ({}, 401), ({"X-API-Key": "wrong"}, 401), ({"Authorization": f"Bearer {API_KEY}"}, 201)])
def test_otp_api_needs_an_api_key(sms_client, headers, status):
    assert sms_client.post("/api/v1/otp", json={"phone": PHONE}, headers=headers).status_code \
        == status


@pytest.mark.parametrize(("path", "payload", "field"), [
    ("/api/v1/otp", {}, "phone"),
    ("/api/v1/otp", {"phone": "12"}, "phone"),
    ("/api/v1/otp", {"phone": "+91 98123 45678", "lang": "fr"}, "lang"),
    ("/api/v1/otp/verify", {"transaction_id": "abcdefghij", "code": "12ab56"}, "code"),
    ("/api/v1/otp/verify", {"code": "123456"}, "transaction_id"),
])
def test_bad_otp_payload_gets_400_naming_the_field(sms_client, path, payload, field):
    reply = sms_client.post(path, json=payload, headers=AUTH)
    assert reply.status_code == 400 and reply.json["field"] == field


# ---- delivery reports -------------------------------------------------------------------

def _sent_message(ctx, db, fake, provider="twilio"):
    if provider == "africastalking":
        fake.twilio.mode = "5xx"
    mid = record(db)
    from gateway.sms import outbox

    outbox.enqueue_messages(ctx.redis, [mid], settings=ctx.settings.sms)
    run_worker(ctx)
    return mid, message(db, mid).provider_message_id


def _twilio_post(client, form, token=TWILIO_TOKEN, signature=None):
    url = "http://localhost/sms/twilio/status"
    if signature is None:
        signature = RequestValidator(token).compute_signature(url, form)
    return client.post(url, data=form, headers={"X-Twilio-Signature": signature})


def test_twilio_delivered_report_updates_the_message(sms_client, worker_ctx, db, fake):
    mid, sid = _sent_message(worker_ctx, db, fake)
    reply = _twilio_post(sms_client, {"MessageSid": sid, "MessageStatus": "delivered"})
    assert reply.status_code == 200 and reply.json["known"] is True
    assert message(db, mid).status == "delivered"


def test_twilio_undelivered_report_keeps_the_reason(sms_client, worker_ctx, db, fake):
    mid, sid = _sent_message(worker_ctx, db, fake)
    _twilio_post(sms_client, {"MessageSid": sid, "MessageStatus": "undelivered",
                              "ErrorCode": "30003"})
    updated = message(db, mid)
    assert updated.status == "undelivered"
    assert updated.status_reason.startswith("twilio 30003: handset unreachable")


@pytest.mark.parametrize(("token", "signature", "status"), [
    ("wrong-token", None, 403), (TWILIO_TOKEN, "", 403), (TWILIO_TOKEN, None, 200)])
def test_twilio_signature_is_checked(sms_client, worker_ctx, token, signature, status):
    form = {"MessageSid": "SM" + "0" * 32, "MessageStatus": "delivered"}
    assert _twilio_post(sms_client, form, token, signature).status_code == status


def test_unknown_message_id_gets_200(sms_client, worker_ctx):
    reply = _twilio_post(sms_client, {"MessageSid": "SM" + "f" * 32, "MessageStatus": "failed"})
    assert reply.status_code == 200 and reply.json["known"] is False


@pytest.mark.parametrize(("form", "field"), [
    ({"MessageStatus": "delivered"}, "MessageSid"),
    ({"MessageSid": "SM123", "MessageStatus": "<b>sent</b>"}, "MessageStatus"),
    ({"MessageSid": "<script>", "MessageStatus": "sent"}, "MessageSid"),
    ({}, "MessageSid"),
])
def test_garbage_twilio_report_gets_400_naming_the_field(sms_client, worker_ctx, form, field):
    reply = _twilio_post(sms_client, form)
    assert reply.status_code == 400 and reply.json["field"] == field


def _at_post(client, form, secret=AT_SECRET, header=False):
    if header:
        return client.post("/sms/africastalking/delivery", data=form,
                           headers={"X-Vaxgate-Webhook-Secret": secret})
    return client.post(f"/sms/africastalking/delivery?secret={secret}", data=form)


def test_africastalking_report_updates_the_message(sms_client, worker_ctx, db, fake):
    mid, at_id = _sent_message(worker_ctx, db, fake, "africastalking")
    reply = _at_post(sms_client, {"id": at_id, "status": "Success"}, header=True)
    assert reply.status_code == 200
    assert message(db, mid).status == "delivered"


@pytest.mark.parametrize("secret", ["", "wrong"])
def test_africastalking_report_needs_the_secret(sms_client, worker_ctx, secret):
    assert _at_post(sms_client, {"id": "ATXid_1", "status": "Success"}, secret).status_code \
        == 403


@pytest.mark.parametrize(("form", "field"), [
    ({"status": "Success"}, "id"), ({"id": "ATXid_1", "status": "Lost;DROP"}, "status"),
    ({"id": "ATXid_1"}, "status")])
def test_garbage_africastalking_report_gets_400_naming_the_field(sms_client, worker_ctx, form,
                                                                 field):
    reply = _at_post(sms_client, form)
    assert reply.status_code == 400 and reply.json["field"] == field


def test_jobs_module_uses_the_installed_context(worker_ctx):
    assert jobs.context() is worker_ctx


def test_otp_fails_over_to_next_provider_on_timeout(sms_client, worker_ctx, fake):
    fake.twilio.mode, fake.twilio.hang_seconds = "hang", 2.0
    txn = _request_otp(sms_client).json["transaction_id"]
    run_worker(worker_ctx)
    body = fake.africastalking.received[-1]["form"]["message"]
    code = re.match(r"(\d{6}) ", body).group(1)
    assert _verify(sms_client, txn, code).json == {"verified": True}
