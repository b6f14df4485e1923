"""``POST /ussd/africastalking`` under hostile input: always ``CON``/``END`` text that fits a
screen, a 200 or a 400 naming the field (413 past 64 KB), nothing logged as an error,
nothing half-written.

Two kinds of example: any request at all (bytes, encodings, fields missing or twice), and
journeys of plausible and implausible answers typed into real sessions, by citizens and by
a health worker (PIN, then register-and-book), which reach deep screens and so the database.
"""
from __future__ import annotations

import itertools

import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from gateway.healthworkers import accounts
from gateway.text.encoding import screen_length, screen_limit
from gateway.ussd_menus.adapter import read_form
from gateway.web.webhook_security import MAX_REQUEST_BYTES
from tests.fuzz import tally

from .conftest import fuzz_settings
from .invariants import check_consistent, slot_drift
from .strategies import BIG_FORM, Post, call_ids, field_value, posts, typed_text

PATH = "/ussd/africastalking"
CODE = "*384*1234#"
WORKER, PIN = "+919900011122", "4826"  # a health worker's phone: the worker journey
PHONES = ("+919876543210", "919812345678", "9812300001", "+91 98123 00002", "+254711000111",
          WORKER)
ANSWERS = ("1", "2", "3", "4", "5", "6", "7", "9", "98", "0", "00", "", "*", "#",
           "Sita Devi", "Ram", "1950", "1990", "2020", "1234", "800001", "800020", "226001",
           PIN, "9812345000")
journeys = itertools.count()

pytestmark = pytest.mark.usefixtures("demo_centers", "worker")


@pytest.fixture
def worker(db, demo_centers):
    with db.write() as session:
        person = accounts.create(session, name="Asha Kumari", phone=WORKER,
                                 center_code="DEMO002")
        accounts.set_pin(session, person, PIN)


def check_reply(response, statuses=(200, 400, 413)) -> str:
    """The protocol: 200 (400/413: bad request), text/plain, CON or END, fits the screen."""
    body = response.get_data(as_text=True)
    assert response.status_code in statuses, (response.status_code, body[:300])
    assert response.mimetype == "text/plain", (response.mimetype, body[:300])
    assert body.startswith(("CON ", "END ")), body[:300]
    text = body[4:]
    assert text.strip(), body
    assert screen_length(text) <= screen_limit(text), (screen_length(text), text)
    if response.status_code in (400, 413):
        assert body.startswith("END Invalid request: "), body
    return body


def ussd_fields() -> dict:
    return {"sessionId": st.one_of(call_ids, field_value("fz-1", "fz-1:x")),
            "serviceCode": field_value(CODE, "*999#"),
            "phoneNumber": field_value(*PHONES),
            "networkCode": field_value("40410", "63902"),
            "text": st.one_of(field_value("", "1", "1*1", "1*1*Sita Devi*1950"),
                              st.lists(st.sampled_from(ANSWERS), max_size=12).map("*".join))}


@given(post=posts(ussd_fields()))
@example(post=Post(BIG_FORM.encode(), "application/x-www-form-urlencoded"))  # was a JSON 413
@fuzz_settings(examples=60)
def test_any_request_gets_a_ussd_screen(sandbox_client, db, error_log, post):
    with tally.case("USSD POST /ussd/africastalking (any request)"):
        drift = slot_drift(db)
        check_reply(post.send(sandbox_client, PATH))
        error_log.check()
        check_consistent(db, drift)


@given(post=posts(ussd_fields()))
@example(post=Post(BIG_FORM.encode(), "application/x-www-form-urlencoded"))
@example(post=Post(b"text=%ff%fe&text=2&sessionId=\xff", "application/x-www-form-urlencoded"))
@example(post=Post(b"a=1&a=2", "Application/X-WWW-Form-Urlencoded; charset=latin-1"))
@fuzz_settings(examples=60)
def test_the_fast_path_reads_a_form_as_werkzeug_does(post):
    """The USSD webhook parses plain urlencoded bodies itself (adapter.read_form); whatever
    the body, it must read the same fields as werkzeug (Flask's ``request.form``) would."""
    with tally.case("USSD form parse = werkzeug's"):
        def environ():
            return EnvironBuilder(method="POST", path=PATH, data=post.body,
                                  content_type=post.content_type).get_environ()
        request = Request(environ())
        request.max_content_length = MAX_REQUEST_BYTES
        try:
            expected = request.form.to_dict()
        except RequestEntityTooLarge:
            expected = "413"
        try:
            found = read_form(environ())
        except RequestEntityTooLarge:
            found = "413"
        assert found == expected


answer = st.one_of(st.sampled_from(ANSWERS), st.sampled_from(ANSWERS), typed_text)


@given(phone=st.sampled_from(PHONES), answers=st.lists(answer, max_size=14))
@example(phone=PHONES[0], answers=["1", "1", "Sita Devi", "1950", "2", "1", "1234", "800001",
                                   "1", "1", "1", "1", "1", "1"])
@example(phone=PHONES[1], answers=["1", "2", "1", "1", "1", "1", "1", "98", "0", "00"])
@example(phone=WORKER, answers=[PIN, "1", "Sita Devi", "1950", "2", "1", "1234", "800001", "3",
                                "1", "1"])  # a worker registers and books
@fuzz_settings(examples=40)
def test_journeys_of_any_answers_stay_on_screen_and_consistent(sandbox_client, db, error_log,
                                                               phone, answers):
    with tally.case("USSD journeys of typed answers"):
        drift = slot_drift(db)
        session_id = f"fz-journey-{next(journeys)}"
        history: list[str] = []
        for typed in [None, *answers]:
            if typed is not None:
                history.append(typed)
            response = sandbox_client.post(PATH, data={
                "sessionId": session_id, "serviceCode": CODE, "phoneNumber": phone,
                "networkCode": "40410", "text": "*".join(history)})
            if check_reply(response).startswith("END "):
                break
        error_log.check()
        check_consistent(db, drift)


@given(post=posts(ussd_fields()))
@fuzz_settings(examples=20)
def test_requests_without_the_ussd_secret_get_an_end(provider_client, error_log, post):
    with tally.case("USSD to a real deployment (without ?secret=)"):
        body = check_reply(post.send(provider_client, PATH), statuses=(403,))
        assert body == "END Forbidden.", body
        error_log.check()
