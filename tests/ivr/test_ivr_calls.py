"""Whole voice calls through the real app, Redis and database: register by voice (the name is
recorded), book, hear the code, get the SMS — on Twilio and Africa's Talking, in en/hi/bn."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from gateway.storage import Appointment, Beneficiary
from gateway.storage.ledger import Message
from tests.ivr.conftest import VoicePhone

LANGUAGE_KEY = {"en": "1", "hi": "2", "bn": "3"}
RECORDING = "https://api.twilio.com/2010-04-01/Accounts/AC1/Recordings/RE1.mp3"


def register_and_book(caller: VoicePhone, lang: str):
    """Walk a new caller from the first prompt to the booked appointment; return the turns."""
    turns = [caller.call(), caller.press(LANGUAGE_KEY[lang]), caller.press("1")]
    assert turns[-1].expect == "record"
    turns.append(caller.speak(RECORDING))
    for keys in ("1948#", "2", "1", "1234#", "800020#", "1", "1", "1", "1", "1", "1"):
        turns.append(caller.press(keys))
    return turns


@pytest.mark.usefixtures("demo_centers")
@pytest.mark.parametrize("lang", ["en", "hi", "bn"])
def test_a_caller_registers_by_voice_and_books_in_each_language(caller, db, lang):
    turns = register_and_book(caller, lang)

    end = turns[-1]
    assert all(turn.status == 200 for turn in turns)
    assert end.expect == "hangup"
    with db.read() as session:
        appointment = session.scalar(select(Appointment))
        person = session.scalar(select(Beneficiary))
        sms = session.scalars(select(Message).where(Message.phone == caller.phone)).all()
        reference = appointment.reference
        assert appointment.status == "booked" and appointment.channel == "ivr"
        assert person.name_recording_url == RECORDING and person.name_confirmed is False
        assert person.language == lang
    assert ", ".join(reference) in end.text  # read out character by character
    assert [m.kind for m in sms] == ["confirmation"] and reference in sms[0].body


@pytest.mark.usefixtures("demo_centers")
def test_hindi_and_bengali_are_spoken_in_their_own_voices_and_recordings_come_first(
        ivr_client, audio_dir):
    (audio_dir / "bn").mkdir()
    (audio_dir / "bn" / "main.menu.mp3").write_bytes(b"ID3")
    hindi = VoicePhone(ivr_client, "twilio", phone="+919811111111")
    hindi.call()
    menu = hindi.press("2")
    assert "दबाएँ" in menu.text and all(voice == "Polly.Aditi" for _, voice in menu.said)
    assert 'language="hi-IN"' in menu.xml

    bengali = VoicePhone(ivr_client, "twilio", phone="+919822222222")
    bengali.call()
    menu = bengali.press("3")
    assert menu.played == ["http://localhost/ivr/audio/bn/main.menu.mp3"]
    assert ivr_client.get("/ivr/audio/bn/main.menu.mp3").data == b"ID3"
    assert 'language="bn-IN" voice="Google.bn-IN-Standard-A"' in menu.xml  # the rest: TTS


@pytest.mark.usefixtures("demo_centers")
def test_star_repeats_the_prompt_and_an_invalid_key_says_why(caller):
    caller.call()
    menu = caller.press("1")
    assert caller.press("*").said == menu.said
    wrong = caller.press("7")
    assert wrong.said[0][0] == "Invalid choice." and wrong.said[1:] == menu.said


@pytest.mark.usefixtures("demo_centers")
def test_silence_reprompts_twice_then_says_goodbye_and_sends_an_sms(caller, db):
    caller.call()
    menu = caller.press("1")
    first, second = caller.silence(), caller.silence()
    assert first.said[0][0].startswith("Sorry, we did not hear") and first.said[1:] == menu.said
    assert second.expect == "key"
    goodbye = caller.silence()
    assert goodbye.expect == "hangup" and "SMS" in goodbye.text
    with db.read() as session:
        sms = session.scalars(select(Message)).all()
        assert [(m.kind, m.phone) for m in sms] == [("notice", caller.phone)]
        assert "*384*1234#" in sms[0].body


@pytest.mark.usefixtures("demo_centers")
def test_a_dropped_call_resumes_when_the_phone_calls_back(caller):
    caller.call()
    caller.press("1")
    caller.press("1")
    caller.speak(RECORDING)
    year = caller.press("1948#")
    assert year.text.startswith("Gender")
    if caller.provider == "africastalking":
        assert caller.hang_up().status == 200

    offer = caller.call()  # a new call id from the same phone
    assert "To continue where you left off, press 1" in offer.text
    assert caller.press("1").said == year.said
    restart = caller.call()
    assert "press 1" in restart.text
    assert "VaxGate COVID vaccination" in caller.press("2").text


def test_call_state_lives_in_redis_under_the_call_id_with_a_ttl(caller, redis_client):
    caller.call()
    caller.press("1")
    key = f"vaxgate:ivr:{{{caller.phone}}}:session:{caller.call_id}"
    assert redis_client.exists(key)
    assert 0 < redis_client.ttl(key) <= 1800
    assert redis_client.ttl(f"vaxgate:ivr:{{{caller.phone}}}:resume") <= 600
