"""Gupshup's delivery-report webhook (``GET|POST /sms/gupshup/delivery``) under hostile input.

Reports come as a form or as query parameters, mostly with the right ``?secret=``, so
generated payloads reach the parser. Property: 200, 400 naming the field, 403 or 413 —
never a 5xx, nothing logged as an error, and a delivered message stays delivered.
"""
from __future__ import annotations

import pytest
from hypothesis import event, example, given
from hypothesis import strategies as st
from sqlalchemy import select

from gateway.sms import outbox
from gateway.storage.ledger import Message, SendAttempt
from tests.fuzz import tally
from tests.sms.dlt_support import GUPSHUP_ENV, GUPSHUP_SECRET, dlt_settings, gupshup_config

from .conftest import _app, fuzz_settings
from .strategies import Post, field_value, posts, query_garbage

PATH = "/sms/gupshup/delivery"
SENT_ID, DELIVERED_ID = "3562707498794989059-1", "3562707498794989059-2"
FIELDS = {"externalId": field_value(SENT_ID, DELIVERED_ID, "999-unknown"),
          "status": field_value("SUCCESS", "FAIL", "UNKNOWN", "success", "x"),
          "cause": field_value("SUCCESS", "ABSENT_SUBSCRIBER", ""),
          "errCode": field_value("000", "006", ""), "phoneNo": field_value("919812345678"),
          "deliveredTS": field_value("1764979200000"), "noOfFrags": field_value("1")}


@pytest.fixture
def gupshup_client(settings, db, redis_client, monkeypatch):
    for var, value in GUPSHUP_ENV.items():
        monkeypatch.setenv(var, value)
    return _app(dlt_settings(settings, [gupshup_config("http://127.0.0.1:9")])).test_client()


@pytest.fixture
def reported(db):
    """One message still ``sent`` and one already ``delivered`` through Gupshup."""
    with db.write() as session:
        for n, (provider_id, status) in enumerate(((SENT_ID, "sent"),
                                                    (DELIVERED_ID, "delivered"))):
            message = outbox.record_message(session, budget=None, phone="+919812345678", kind="otp",
                                            body="482913", lang="en", dedupe_key=f"gs-{n}")
            message.status, message.provider_message_id = status, provider_id
            session.add(SendAttempt(message_id=message.id, provider="gupshup",
                                    outcome="accepted", provider_message_id=provider_id))


def _delivered_stays(db) -> None:
    with db.read() as session:
        status = session.scalar(select(Message.status).where(
            Message.provider_message_id == DELIVERED_ID))
        assert status == "delivered"


def _secret(post: Post, signing: str) -> Post:
    secret = {"good": GUPSHUP_SECRET, "wrong": "nope", "none": None}[signing]
    if secret:
        post.query = f"secret={secret}" + (f"&{post.query}" if post.query else "")
    return post


@given(post=posts(FIELDS, query=query_garbage),
       signing=st.sampled_from(("good", "good", "good", "none", "wrong")),
       as_query=st.booleans())
@example(post=Post(b"externalId=3562707498794989059-2&status=FAIL",
                   "application/x-www-form-urlencoded"), signing="good", as_query=False)
@example(post=Post(b"externalId=3562707498794989059-1&status=SUCCESS&cause=%00%ff",
                   "application/x-www-form-urlencoded"), signing="good", as_query=True)
@fuzz_settings(examples=60)
@pytest.mark.usefixtures("reported")
def test_any_gupshup_report_gets_a_clean_answer(gupshup_client, db, error_log, post,
                                                signing, as_query):
    with tally.case(f"SMS report {PATH}"):
        post = _secret(post, signing)
        if as_query and post.content_type == "application/x-www-form-urlencoded":
            body = post.body.decode("ascii", "replace")
            answer = gupshup_client.get(f"{PATH}?{post.query}&{body}")
        else:
            answer = post.send(gupshup_client, PATH)
        event(f"{answer.status_code} {(answer.get_json(silent=True) or {}).get('field', '')}")
        assert answer.status_code in (200, 400, 403, 413), answer.get_data(as_text=True)[:300]
        if answer.status_code == 400:
            assert answer.get_json()["field"]
        error_log.check()
        _delivered_stays(db)
