"""The IVR callbacks (Twilio ``/ivr/twilio[/gather|/record]``, Africa's Talking
``/ivr/africastalking[/gather|/record]``) under hostile input: a well-formed XML
``<Response>`` every time, never a 5xx, nothing logged as an error, nothing half-written.
With the providers' secrets set, anything unsigned is a 403 that is still XML.
"""
from __future__ import annotations

import itertools
import xml.etree.ElementTree as ET

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from tests.fuzz import tally

from .conftest import fuzz_settings
from .invariants import check_consistent, slot_drift
from .strategies import BIG_FORM, Post, call_ids, field_value, posts, typed_text

PHONES = ("+919876543210", "9812300003", "+91 98123 00004", "+14155550100")
URLS = ("https://api.twilio.com/rec/RE1.mp3", "http://x/y", "", "ftp://x", "https://")
STEPS = ("", "/gather", "/record")
calls = itertools.count()

pytestmark = pytest.mark.usefixtures("demo_centers")


def check_xml(response, statuses=(200, 400, 413)) -> ET.Element:
    """A TwiML / AT voice XML document with a <Response> root, in an allowed status."""
    body = response.get_data(as_text=True)
    assert response.status_code in statuses, (response.status_code, body[:300])
    assert response.mimetype == "application/xml", (response.mimetype, body[:300])
    root = ET.fromstring(body)
    assert root.tag == "Response", body[:300]
    return root


def fields(provider: str, call_id: str | None = None) -> dict:
    call_id = call_ids if call_id is None else st.just(call_id)
    digits = field_value("1", "2", "9", "0", "*", "#", "12#", "800001", "1950")
    if provider == "twilio":
        return {"CallSid": st.one_of(call_id, field_value("CA" + "0" * 32)),
                "From": field_value(*PHONES), "Digits": digits, "RecordingUrl": field_value(*URLS),
                "CallStatus": field_value("in-progress", "completed")}
    return {"sessionId": st.one_of(call_id, field_value("ATVId_1")),
            "callerNumber": field_value(*PHONES), "dtmfDigits": digits,
            "recordingUrl": field_value(*URLS), "isActive": field_value("1", "0")}


any_callback = st.sampled_from(("twilio", "africastalking")).flatmap(
    lambda provider: st.tuples(st.just(provider), st.sampled_from(STEPS),
                               posts(fields(provider))))
BIG = Post(BIG_FORM.encode(), "application/x-www-form-urlencoded")


@given(callback=any_callback)
@example(callback=("twilio", "/gather", BIG))
@example(callback=("africastalking", "", BIG))
@fuzz_settings(examples=60)
def test_any_callback_gets_a_voice_xml_reply(sandbox_client, db, error_log, callback):
    provider, step, post = callback
    with tally.case(f"IVR POST /ivr/{provider}[/gather|/record] (any request)"):
        drift = slot_drift(db)
        check_xml(post.send(sandbox_client, f"/ivr/{provider}{step}"))
        error_log.check()
        check_consistent(db, drift)


press = st.one_of(st.tuples(st.just("/gather"), st.sampled_from(
    ("1", "2", "3", "9", "0", "*", "", "1950", "1234", "800001", "12#")) | typed_text),
    st.tuples(st.just("/record"), st.sampled_from(URLS)))


@given(provider=st.sampled_from(("twilio", "africastalking")), phone=st.sampled_from(PHONES),
       presses=st.lists(press, max_size=14))
@example(provider="twilio", phone=PHONES[0], presses=[
    ("/gather", "1"), ("/gather", "1"), ("/record", URLS[0]), ("/gather", "1950"),
    ("/gather", "2"), ("/gather", "1"), ("/gather", "1234"), ("/gather", "800001"),
    ("/gather", "1"), ("/gather", "1"), ("/gather", "1"), ("/gather", "1"), ("/gather", "1")])
@fuzz_settings(examples=25)
def test_calls_of_any_keys_answer_xml_and_stay_consistent(sandbox_client, db, error_log,
                                                          provider, phone, presses):
    with tally.case("IVR calls of pressed keys and recordings"):
        drift = slot_drift(db)
        call_id = f"fz-call-{next(calls)}"
        names = fields(provider, call_id)
        call, caller, digits, recording = list(names)[:4]
        check_xml(sandbox_client.post(f"/ivr/{provider}", data={call: call_id, caller: phone}))
        for step, value in presses:
            answer = {digits: value} if step == "/gather" else {recording: value}
            check_xml(sandbox_client.post(f"/ivr/{provider}{step}",
                                       data={call: call_id, caller: phone, **answer}))
        error_log.check()
        check_consistent(db, drift)


@given(callback=any_callback, signature=st.one_of(st.none(), st.text(
    st.characters(min_codepoint=32, max_codepoint=255), max_size=40)))  # a header's bytes
@example(callback=("twilio", "", BIG), signature=None)
@example(callback=("twilio", "/gather", Post(
    b'--b\r\nContent-Disposition: form-data\r\n\r\nno name\r\n--b--\r\n',
    "multipart/form-data; boundary=b")), signature="x")  # nameless part: Twilio's check crashed
@fuzz_settings(examples=20)
def test_unsigned_callbacks_are_refused_in_xml(provider_client, error_log, callback, signature):
    provider, step, post = callback
    with tally.case("IVR callbacks to a real deployment (unsigned)"):
        if signature is not None:
            post.headers["X-Twilio-Signature"] = signature
        check_xml(post.send(provider_client, f"/ivr/{provider}{step}"), statuses=(403, 413))
        error_log.check()
