"""The SMS webhooks of a real deployment (Twilio and Africa's Talking configured, secrets
set) under hostile input: delivery reports (``/sms/twilio/status``,
``/sms/africastalking/delivery``) and inbound SMS (``/sms/twilio/inbound``,
``/sms/africastalking/inbound``, which also carry the health workers' REG / VAX commands).

Requests are mostly signed as the provider would sign them (Twilio: the signature of the
URL and the form the gateway will parse; Africa's Talking: ``?secret=``), so generated
payloads reach the parsers; some are unsigned or wrongly signed. Property: 200, 400
naming the field, 403 or 413 — never a 5xx, nothing logged as an error, nothing
half-written (a REG command registers a whole person and booking, or nothing).
"""
from __future__ import annotations

import itertools
from urllib.parse import urlencode

import pytest
from hypothesis import event, example, given
from hypothesis import strategies as st
from sqlalchemy import select
from twilio.request_validator import RequestValidator
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from gateway.healthworkers import accounts
from gateway.sms import outbox
from gateway.storage.ledger import Message, SendAttempt
from gateway.web.webhook_security import signed_form_fields
from tests.fuzz import tally

from .conftest import SECRETS, fuzz_settings
from .invariants import check_consistent, slot_drift
from .strategies import (
    BIG_FORM,
    Post,
    big_text,
    field_value,
    posts,
    query_garbage,
    sendable,
    typed_text,
)

WORKER = "+919900011122"
PHONES = (WORKER, "+919812345678", "9812345679", "+91 98123 45680", "+14155550100", "12")
KNOWN_IDS = ("SMfuzz0001", "ATXid_fuzz1")
BODIES = ("STATUS", "cancel k7qp3m", "YES", "stop", "START", "HELP", "रद्द K7QP3M", "हाँ",
          "REG Sita Devi, 1948, F, 800001", "reg Ram Lal 1950 M 800020 9812345000",
          "REG Sita, 19x8, F, 800001", "REG", "VAX", "VAX K7QP3M", "টিকা ABC234")
TWILIO_STATUSES = ("queued", "sent", "delivered", "undelivered", "failed", "read", "canceled",
                   "partially_delivered", "receiving", "teleported", "?")
TWILIO_CODES = ("30003", "30007", "30001", "21610", "30005", "99999", "")
AT_STATUSES = ("Success", "Sent", "Buffered", "Rejected", "Failed", "success", "Expired",
               "AbsentSubscriber", "x")
AT_REASONS = ("UserInBlacklist", "InsufficientCredit", "DNDReject", "DeliveryFailure",
              "MoonPhase", "")
# a known message's status may only move forward: delivered wins, a final one stays
FORWARD = {"sent": {"sent", "delivered", "failed", "undelivered"},
           "undelivered": {"undelivered", "delivered"}, "failed": {"failed", "delivered"},
           "delivered": {"delivered"}}

ROUTES = {
    "/sms/twilio/status": {"MessageSid": field_value(*KNOWN_IDS, "SMunknown"),
                           "MessageStatus": field_value(*TWILIO_STATUSES),
                           "ErrorCode": field_value(*TWILIO_CODES)},
    "/sms/africastalking/delivery": {"id": field_value(*KNOWN_IDS, "ATXid_unknown"),
                                     "status": field_value(*AT_STATUSES),
                                     "failureReason": field_value(*AT_REASONS)},
    "/sms/twilio/inbound": {"From": field_value(*PHONES), "Body": field_value(*BODIES),
                            "MessageSid": field_value("SMin0001", "SMin0002")},
    "/sms/africastalking/inbound": {"from": field_value(*PHONES), "text": field_value(*BODIES),
                                    "id": field_value("ATin-1", "ATin-2"),
                                    "to": field_value("384"), "date": field_value("2026-11-22")},
}
SIGNING = ("good", "good", "good", "good", "none", "wrong")
texts_sent = itertools.count()


@pytest.fixture
def known_messages(db, demo_centers):
    """Messages sent through each provider, so reports about them change something; a
    health worker whose phone can send REG / VAX."""
    with db.write() as session:
        for n, provider_id in enumerate(KNOWN_IDS):
            message = outbox.record_message(session, phone="+919812345678", kind="notice",
                                            budget=None, body="Booked", lang="en",
                                            dedupe_key=f"fz-{n}")
            message.status, message.provider_message_id = "sent", provider_id
            session.add(SendAttempt(message_id=message.id, provider="twilio",
                                    outcome="accepted", provider_message_id=provider_id))
        accounts.create(session, name="Asha Kumari", phone=WORKER, center_code="DEMO002")


def known_statuses(db) -> dict[str, str]:
    """The status of each known message, by dedupe key."""
    with db.read() as session:
        return dict(session.execute(select(Message.dedupe_key, Message.status).where(
            Message.dedupe_key.in_([f"fz-{n}" for n in range(len(KNOWN_IDS))]))).all())


def sign(post: Post, path: str, signing: str) -> Post:
    """Sign ``post`` as the provider would (or not, or wrongly)."""
    if "africastalking" in path:
        secret = {"good": SECRETS["FUZZ_AT_SMS_SECRET"], "wrong": "nope", "none": None}[signing]
        if secret:
            post.query = f"secret={secret}" + (f"&{post.query}" if post.query else "")
        return post
    if signing == "none":
        return post
    url = f"{path}?{post.query}" if post.query else path
    parsed = Request(EnvironBuilder(url, method="POST", data=post.body,
                                    content_type=post.content_type).get_environ())
    token = SECRETS["FUZZ_TWILIO_TOKEN"] if signing == "good" else "wrong-token"
    post.headers["X-Twilio-Signature"] = RequestValidator(token).compute_signature(
        parsed.url, signed_form_fields(parsed.form))
    return post


def check_answer(response, path: str) -> None:
    body = response.get_data(as_text=True)
    field = (response.get_json(silent=True) or {}).get("field")
    event(f"{path}: {response.status_code} {field or ''}")  # see --hypothesis-show-statistics
    assert response.status_code in (200, 400, 403, 413), (response.status_code, body[:300])
    if response.status_code == 400:
        assert response.get_json()["field"], body
    elif response.status_code == 200 and path == "/sms/twilio/inbound":
        assert response.mimetype == "application/xml" and "<Response/>" in body, body
    elif response.status_code == 200:
        assert response.get_json()["ok"] is True, body


webhook = st.sampled_from(sorted(ROUTES)).flatmap(lambda path: st.tuples(
    st.just(path), posts(ROUTES[path], query=query_garbage), st.sampled_from(SIGNING)))


@given(call=webhook)
@example(call=("/sms/twilio/inbound", Post(b"From=%2B919900011122&MessageSid=SMin9&Body=REG+"
                                           b"Sita+Devi%2C+1948%2C+F%2C+800001",
                                           "application/x-www-form-urlencoded"), "good"))
@example(call=("/sms/africastalking/delivery", Post(BIG_FORM.encode(),
                                                    "application/x-www-form-urlencoded"), "good"))
@example(call=("/sms/twilio/status", Post(
    b'--b\r\nContent-Disposition: form-data\r\n\r\nno name\r\n--b\r\nContent-Disposition: '
    b'form-data; name="MessageSid"\r\n\r\nSM1\r\n--b--\r\n', "multipart/form-data; boundary=b"),
    "good"))  # a part without a name crashed Twilio's signature check: a 500
@fuzz_settings(examples=120)
@pytest.mark.usefixtures("known_messages")
def test_any_sms_webhook_gets_a_clean_answer(provider_client, db, error_log, call):
    path, post, signing = call
    with tally.case(f"SMS POST {path}"):
        drift, before = slot_drift(db), known_statuses(db)
        check_answer(sign(post, path, signing).send(provider_client, path), path)
        error_log.check()
        check_consistent(db, drift)
        after = known_statuses(db)
        assert all(after[key] in FORWARD[before[key]] for key in before), (before, after)


reg_field = st.one_of(st.sampled_from(("Sita Devi", "1948", "F", "male", "800001", "9812345000",
                                       "", "19x8", "0", "2030", "+919812345000")), typed_text)
texts = st.one_of(
    st.sampled_from(BODIES), typed_text, big_text,
    st.tuples(st.sampled_from(("REG", "reg", "रजिस्टर", "VAX", "CANCEL", "STATUS")),
              st.lists(reg_field, max_size=6), st.sampled_from((", ", " ", ",")))
    .map(lambda t: f"{t[0]} {t[2].join(t[1])}")).map(sendable)


@given(phone=st.sampled_from(PHONES[:4]), text=texts, twilio=st.booleans())
@example(phone=WORKER, text="REG Sita Devi, 1948, F, 800001, 9812345000", twilio=True)
@example(phone=WORKER, text="REG Sita Devi, 2030, F, 800001", twilio=False)
@example(phone=PHONES[1], text="CANCEL K7\x00QP3M", twilio=True)  # were 500s on PostgreSQL
@example(phone=WORKER, text="VAX AB\x00C234", twilio=False)
@fuzz_settings(examples=60)
@pytest.mark.usefixtures("known_messages")
def test_inbound_texts_of_any_content_are_answered_whole(provider_client, db, error_log,
                                                         phone, text, twilio):
    with tally.case("SMS inbound texts of any content (REG/VAX/citizen commands)"):
        drift = slot_drift(db)
        sid = f"SMtext{next(texts_sent)}"
        if twilio:
            path, form = "/sms/twilio/inbound", {"From": phone, "Body": text, "MessageSid": sid}
        else:
            path, form = "/sms/africastalking/inbound", {"from": phone, "text": text, "id": sid}
        post = sign(Post(urlencode(form).encode(), "application/x-www-form-urlencoded"), path,
                    "good")
        response = post.send(provider_client, path)
        check_answer(response, path)
        if len(text) <= 1600:
            assert response.status_code == 200, response.get_data(as_text=True)
        error_log.check()
        check_consistent(db, drift)
