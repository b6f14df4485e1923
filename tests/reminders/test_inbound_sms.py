"""Inbound SMS commands in English and Hindi, answered through the ledger exactly once."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select
from twilio.request_validator import RequestValidator

from gateway.registry import appointments
from gateway.reminders import waitlist
from gateway.reminders.models import OptOut
from gateway.sms.inbound import InboundSms, parse
from gateway.storage import Appointment
from gateway.storage.ledger import Message
from tests.sms.support import AT_SECRET, TWILIO_TOKEN

from .support import book, center, ist, person, slot

PHONE = "+919812345678"
TODAY = dt.date(2026, 11, 22)
NOW = ist(2026, 11, 22, 10).astimezone(dt.UTC)


@pytest.mark.parametrize("text, name, argument, lang", [
    ("STATUS", "STATUS", "", None),
    ("  status  ", "STATUS", "", None),
    ("Cancel  k7qp3m", "CANCEL", "K7QP3M", None),
    ("cancel K7 QP3M.", "CANCEL", "K7QP3M", None),
    ("रद्द K7QP3M", "CANCEL", "K7QP3M", "hi"),
    ("yes", "YES", "", None),
    ("Yes!", "YES", "", None),
    ("हाँ", "YES", "", "hi"),
    ("haan", "YES", "", None),
    ("HELP", "HELP", "", None),
    ("मदद", "HELP", "", "hi"),
    ("stop", "STOP", "", None),
    ("बंद", "STOP", "", "hi"),
    ("Start", "START", "", None),
    ("शुरू", "START", "", "hi"),
    ("বাতিল K7QP3M", "CANCEL", "K7QP3M", "bn"),
    ("hello there", "UNKNOWN", "", None),
    ("", "UNKNOWN", "", None),
])
def test_commands_are_recognised_case_and_space_tolerantly(text, name, argument, lang):
    command = parse(text)
    assert (command.name, command.argument, command.lang) == (name, argument, lang)


@pytest.fixture
def sms(db, settings):
    counter = iter(range(1, 1000))

    def send(text: str, phone: str = PHONE, key: str | None = None) -> list[str]:
        ids = InboundSms(db, settings, now=lambda: NOW).receive(
            phone, text, key or f"test:{next(counter)}")
        with db.read() as session:
            return [session.get(Message, i).body for i in ids]
    return send


@pytest.fixture
def booking(db):
    slot_id = slot(db, center(db), TODAY + dt.timedelta(days=1), capacity=1)
    return book(db, person(db, phone=PHONE, name="Sita Devi"), slot_id)


def reference(db, appointment_id):
    with db.read() as session:
        return session.get(Appointment, appointment_id).reference


def test_status_lists_the_bookings_on_the_phone(sms, db, booking):
    [reply] = sms("status")
    assert reference(db, booking) in reply and "Sita Devi" in reply and "09:00-11:00" in reply


def test_status_with_no_bookings_says_how_to_book(sms):
    [reply] = sms("STATUS")
    assert "No bookings" in reply and "*384*1234#" in reply


def test_cancel_with_the_code_cancels_and_confirms(sms, db, booking):
    [reply] = sms(f"cancel {reference(db, booking).lower()}")
    assert "cancelled" in reply
    with db.read() as session:
        assert session.get(Appointment, booking).status == "cancelled"


@pytest.mark.parametrize("text", ["CANCEL ZZZZZZ", "CANCEL hello", "CANCEL"])
def test_cancel_without_a_valid_code_changes_nothing_and_explains(sms, db, booking, text):
    [reply] = sms(text)
    assert "STATUS" in reply
    with db.read() as session:
        assert session.get(Appointment, booking).status == "booked"


def test_cancel_cannot_touch_another_phones_booking(sms, db, booking):
    [reply] = sms(f"CANCEL {reference(db, booking)}", phone="+919800000001")
    assert "No active booking" in reply
    with db.read() as session:
        assert session.get(Appointment, booking).status == "booked"


def test_yes_claims_the_place_held_for_the_phone(sms, db, settings, booking):
    with db.write() as session:
        waitlist.join(session, person(db, phone=PHONE, name="Ram Lal"), PHONE, TODAY)
        appointments.cancel(session, booking)
    waitlist.run(db, settings, NOW)
    [reply] = sms("YES")
    assert "Vaccination booked" in reply
    with db.read() as session:
        mine = appointments.list_for_phone(session, PHONE)
        assert [a.beneficiary.name for a in mine] == ["Ram Lal"] and mine[0].channel == "sms"


def test_yes_without_an_offer_says_so(sms):
    [reply] = sms("yes")
    assert "No place is being held" in reply


def test_stop_opts_out_of_reminders_and_start_opts_back_in(sms, db):
    [stopped] = sms("STOP")
    assert "START" in stopped
    with db.read() as session:
        assert session.get(OptOut, PHONE) is not None
        assert session.scalar(select(Message.status).where(Message.body == stopped)) == "queued"
    sms("start")
    with db.read() as session:
        assert session.get(OptOut, PHONE) is None


def test_a_hindi_keyword_is_answered_in_hindi(sms):
    [reply] = sms("बंद")
    assert "रिमाइंडर" in reply


@pytest.mark.parametrize("text", ["hello", "what is this", "123"])
def test_unknown_text_gets_a_helpful_reply(sms, text):
    [reply] = sms(text)
    assert "HELP" in reply


def test_a_retried_webhook_is_answered_once(sms, db, booking):
    code = reference(db, booking)
    assert len(sms(f"CANCEL {code}", key="twilio:SM1")) == 1
    assert sms(f"CANCEL {code}", key="twilio:SM1") == []
    with db.read() as session:
        assert len(session.scalars(select(Message)).all()) == 1


# ---- the webhooks ------------------------------------------------------------------------

def _twilio(client, form, token=TWILIO_TOKEN):
    url = "http://localhost/sms/twilio/inbound"
    signature = RequestValidator(token).compute_signature(url, form)
    return client.post(url, data=form, headers={"X-Twilio-Signature": signature})


def test_twilio_inbound_answers_through_the_ledger(sms_client, db):
    reply = _twilio(sms_client, {"From": PHONE, "Body": "HELP", "MessageSid": "SM" + "a" * 32})
    assert reply.status_code == 200 and reply.mimetype == "application/xml"
    with db.read() as session:
        [message] = session.scalars(select(Message)).all()
    assert message.phone == PHONE and "STATUS" in message.body


def test_twilio_inbound_needs_a_valid_signature(sms_client):
    form = {"From": PHONE, "Body": "HELP", "MessageSid": "SM" + "a" * 32}
    assert _twilio(sms_client, form, token="wrong").status_code == 403


def test_africastalking_inbound_needs_the_secret_and_answers(sms_client, db):
    form = {"from": PHONE, "text": "status", "id": "ATXid_1", "to": "12345"}
    assert sms_client.post("/sms/africastalking/inbound", data=form).status_code == 403
    reply = sms_client.post(f"/sms/africastalking/inbound?secret={AT_SECRET}", data=form)
    assert reply.status_code == 200
    with db.read() as session:
        assert len(session.scalars(select(Message)).all()) == 1


@pytest.mark.parametrize("form, field", [
    ({"text": "HELP", "id": "ATXid_1"}, "from"),
    ({"from": "not a phone", "text": "HELP", "id": "ATXid_1"}, "from"),
    ({"from": PHONE, "text": "HELP"}, "id"),
])
def test_a_malformed_inbound_sms_gets_400_naming_the_field(sms_client, form, field):
    reply = sms_client.post(f"/sms/africastalking/inbound?secret={AT_SECRET}", data=form)
    assert reply.status_code == 400 and reply.json["field"] == field
