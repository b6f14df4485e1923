"""A name said on a call: kept as a recording, played back where the name would be shown,
and written as "Person 2, born 1968" in the caller's language, never a made-up word."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from gateway.storage import Beneficiary
from gateway.storage.ledger import Message
from tests.conftest import UssdPhone
from tests.ivr.test_ivr_calls import RECORDING, register_and_book

from .conftest import VoicePhone


@pytest.mark.usefixtures("demo_centers")
def test_a_person_registered_by_voice_is_person_n_born_year_in_their_language(ivr_client, db):
    caller = VoicePhone(ivr_client, "twilio", phone="+919866666660")
    booked = register_and_book(caller, "hi")[-1]

    with db.read() as session:
        person = session.scalar(select(Beneficiary))
        sms = session.scalars(select(Message).where(Message.phone == caller.phone)).all()
    assert person.name == "व्यक्ति 1" and person.name_confirmed is False
    assert RECORDING in booked.played  # the booking is read back with the name as said
    assert all("Voice" not in message.body for message in sms)

    screen = UssdPhone(ivr_client, phone=caller.phone)
    screen.dial()
    people = screen.send("2")  # Book a slot: whom for?
    assert "1 व्यक्ति 1, जन्म 1948" in people and "Voice" not in people


@pytest.mark.usefixtures("demo_centers")
def test_lists_and_confirmations_play_the_recorded_name(ivr_client):
    caller = VoicePhone(ivr_client, "africastalking", phone="+919866666661")
    register_and_book(caller, "en")
    caller.call()
    people = caller.press("2")  # Book a slot: the list of people plays each recorded name
    assert people.played[:1] == [RECORDING]
    assert "For Person 1, born 1948, press 1." in people.text


@pytest.mark.usefixtures("demo_centers")
@pytest.mark.parametrize("lang, key, said, language", [
    ("hi", "2", "सीता देवी", "hi-IN"), ("bn", "3", "অনিতা দাস", "bn-IN"),
    ("en", "1", "Sita Devi", "en-IN")])
def test_on_twilio_the_name_said_again_is_written_down_once_the_caller_confirms_it(
        ivr_client, db, lang, key, said, language):
    caller = VoicePhone(ivr_client, "twilio", phone=f"+91986666667{key}")
    caller.call()
    caller.press(key)
    caller.press("1")  # Register a person
    ask = caller.speak(RECORDING)
    assert 'input="dtmf speech"' in ask.xml and f'language="{language}"' in ask.xml

    check = caller.post(ask.action, {}, form={**caller.form({}), "SpeechResult": said})
    assert said in check.text and check.expect == "key"
    caller.press("1")  # that is right
    for keys in ("1948#", "2", "1", "1234#", "800020#", "1"):
        caller.press(keys)
    with db.read() as session:
        person = session.scalar(select(Beneficiary))
    assert person.name == said and person.name_recording_url == RECORDING


@pytest.mark.usefixtures("demo_centers")
def test_a_name_heard_wrong_keeps_the_recording_only(ivr_client, db):
    caller = VoicePhone(ivr_client, "twilio", phone="+919866666680")
    caller.call()
    caller.press("2")
    caller.press("1")
    ask = caller.speak(RECORDING)
    caller.post(ask.action, {}, form={**caller.form({}), "SpeechResult": "सीमा"})
    year = caller.press("2")  # not what I said
    assert year.expect == "digits"
    for keys in ("1948#", "2", "1", "1234#", "800020#", "1"):
        caller.press(keys)
    with db.read() as session:
        assert session.scalar(select(Beneficiary)).name == "व्यक्ति 1"
