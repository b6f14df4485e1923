"""Garbage in, a clean answer out: a 400 naming the field, or a polite END — never a 500,
never a traceback, never a half-written record."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from gateway.storage import Beneficiary, PhoneProfile

GOOD = {"sessionId": "bad-1", "serviceCode": "*384*1234#", "phoneNumber": "+919876543210",
        "networkCode": "40410", "text": ""}


def without(field):
    return {k: v for k, v in GOOD.items() if k != field}


def with_(**changes):
    return {**GOOD, **changes}


# (case, form, expected status, text the reply must contain)
CASES = [
    ("missing sessionId", without("sessionId"), 400, "sessionId"),
    ("missing phoneNumber", without("phoneNumber"), 400, "phoneNumber"),
    ("missing serviceCode", without("serviceCode"), 400, "serviceCode"),
    ("empty sessionId", with_(sessionId=""), 400, "sessionId"),
    ("sessionId with spaces and quotes", with_(sessionId="a b'c"), 400, "sessionId"),
    ("unparseable phone", with_(phoneNumber="not-a-phone"), 400, "phoneNumber"),
    ("emoji phone", with_(phoneNumber="📱📱📱"), 400, "phoneNumber"),
    ("overlong phone", with_(phoneNumber="9" * 40), 400, "phoneNumber"),
    ("unknown service code", with_(serviceCode="*999#"), 200, "not in use"),
    ("10 KB of text", with_(text="1" * 10_000), 200, "too long"),
    ("history longer than any journey", with_(text="*".join(["1"] * 200)), 200, "too long"),
]


@pytest.mark.parametrize("case,form,status,expected", CASES, ids=[c[0] for c in CASES])
def test_bad_requests_get_a_clean_answer(client, db, case, form, status, expected):
    response = client.post("/ussd/africastalking", data=form)
    body = response.get_data(as_text=True)
    assert response.status_code == status
    assert body.startswith("END ")
    assert expected in body
    assert "Traceback" not in body


def test_a_json_body_is_refused_naming_a_field(client, db):
    response = client.post("/ussd/africastalking", json=GOOD)
    assert response.status_code == 400
    assert "sessionId" in response.get_data(as_text=True)


def test_non_utf8_bytes_are_answered_without_a_500(client, db):
    response = client.post("/ussd/africastalking", data=b"sessionId=\xff\xfe&text=\x80",
                           content_type="application/x-www-form-urlencoded")
    assert response.status_code == 400


def test_get_is_not_allowed(client, db):
    assert client.get("/ussd/africastalking").status_code == 405


# Answers typed where a name is asked: (answer, screen must contain)
NAME_ANSWERS = [
    ("😀😀😀", "letters"),
    ("Robert'); DROP TABLE beneficiaries;--", "letters"),
    ("\x00Sita\x07 Devi\u200b", "Year of birth"),  # control characters are stripped
    ("\x1b[31mSita", "letters"),
    ("A" * 500, "letters"),
    ("1", "letters"),
    ("", "letters"),
]


@pytest.mark.usefixtures("demo_centers")
@pytest.mark.parametrize("answer,expected", NAME_ANSWERS)
def test_garbage_names_are_refused_and_nothing_is_written(phone, db, answer, expected):
    phone.dial()
    phone.send("1", "1")
    screen = phone.send(answer)
    assert screen.startswith("CON ") and expected in screen
    with db.read() as session:
        assert session.scalar(select(func.count()).select_from(Beneficiary)) == 0


@pytest.mark.usefixtures("demo_centers")
def test_refusing_mid_journey_leaves_no_half_written_beneficiary(phone, db):
    phone.dial()
    phone.send("1", "1", "Sita Devi", "1948", "2", "1", "1234", "800020")
    phone.send("2")  # "No" at the confirmation
    with db.read() as session:
        assert session.scalar(select(func.count()).select_from(Beneficiary)) == 0
        assert session.scalar(select(func.count()).select_from(PhoneProfile)) == 1


def test_a_broken_database_gets_a_polite_end_not_a_500(client, db, monkeypatch):
    from gateway.web.runtime import Runtime

    runtime: Runtime = client.application.extensions["vaxgate"]
    runtime.db.engine.dispose()
    monkeypatch.setattr(runtime.db, "_reader", _raise)
    monkeypatch.setattr(runtime.db, "_writer", _raise)
    monkeypatch.setattr(runtime.db.engine, "raw_connection", _raise)  # FastRead's way in
    response = client.post("/ussd/africastalking", data=GOOD)
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert body.startswith("END ") and "Traceback" not in body


def _raise(*_args, **_kwargs):
    raise ConnectionError("database is down")


@pytest.mark.usefixtures("demo_centers")
def test_an_unreachable_database_says_try_again_and_the_answers_are_kept(phone, client):
    from gateway.storage import Database

    runtime = client.application.extensions["vaxgate"]
    phone.dial()
    phone.send("1", "1", "Sita Devi", "1948", "2", "1", "1234", "800020")
    working_db = runtime.db
    runtime.db = Database("postgresql+psycopg2://nobody@127.0.0.1:9/none")
    try:
        busy = phone.send("1")  # confirm: the registration cannot be written now
    finally:
        runtime.db = working_db
    assert busy.startswith("END ") and "dial again" in busy
    offer = phone.dial()
    assert "Continue" in offer
    confirm_again = phone.send("1")
    assert "Register Sita Devi" in confirm_again
    assert "Registered Sita Devi" in phone.send("1")


def test_a_locked_database_answers_try_again_within_the_step_budget(phone, db):
    """A writer holding the database past ussd.step_budget_seconds (2 s) does not hang the
    caller: the step answers "dial again" and nothing typed so far is lost."""
    phone.dial()
    with db.engine.execution_options(sqlite_begin="IMMEDIATE").connect() as blocker:
        blocker.begin()  # SQLite: BEGIN IMMEDIATE takes the write lock
        if not db.is_sqlite:
            blocker.exec_driver_sql("LOCK TABLE phone_profiles IN ACCESS EXCLUSIVE MODE")
        busy = phone.send("1")  # choosing a language writes the phone's profile
        blocker.rollback()
    assert busy.startswith("END ") and "dial again" in busy
