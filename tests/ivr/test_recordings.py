"""Voices per provider and language, recordings built with espeak-ng and served by the
gateway, and the checks that keep a Hindi or Bengali caller from hearing another language."""
from __future__ import annotations

import re
import shutil

import pytest
from click.testing import CliRunner

from gateway import MENU_DIR
from gateway.cli.commands import main
from gateway.config import load_settings
from gateway.flows import load_flows
from gateway.ivr import recordings
from gateway.ivr.voices import voice_problems
from gateway.ussd_menus.check import spoken_form_problems, voice_report

from .conftest import VoicePhone

INDIC = re.compile(r"[\u0900-\u097F\u0980-\u09FF]")  # Devanagari and Bengali letters
# what a Hindi or Bengali caller hears up to and on the main menu, and the hints around it
FIRST_CALL_KEYS = ("main.", "voice.")


@pytest.fixture(scope="session")
def built_recordings(tmp_path_factory):
    """The hi and bn recordings of the first call's prompts, built once per test session."""
    if not recordings.engine_available():
        pytest.skip("espeak-ng is not installed (make voice-deps installs Debian's package)")
    folder = tmp_path_factory.mktemp("recordings")
    result = recordings.build(load_flows(MENU_DIR), folder, ("hi", "bn"), FIRST_CALL_KEYS)
    assert result.made > 0 and result.kept == 0
    return folder


def voices(**changes):
    return load_settings(overrides={"ivr": {"voices": changes}}).ivr


@pytest.mark.parametrize("changes, error", [
    ({"hi": {"language": "hi-IN", "twilio_voice": "Polly.Raveena"}},
     "ivr.voices.hi.twilio_voice: 'Polly.Raveena' does not speak hi-IN"),
    ({"hi": {"language": "hi-IN", "africastalking_voice": "woman"}},
     "ivr.voices.hi.africastalking_voice: 'woman' does not speak hi-IN"),
    ({"bn": {"language": "bn-IN", "twilio_voice": "Google.hi-IN-Standard-A"}},
     "ivr.voices.bn.twilio_voice: 'Google.hi-IN-Standard-A' does not speak bn-IN"),
    ({"bn": {"language": "en-IN", "twilio_voice": "Polly.Aditi"}},
     "ivr.voices.bn.language: 'en-IN' is not a bn language"),
])
def test_a_voice_of_another_language_is_an_error(changes, error):
    errors, _ = voice_problems(voices(**changes))
    assert any(found.startswith(error) for found in errors), errors


def test_the_shipped_voices_speak_their_own_languages():
    assert voice_problems(load_settings().ivr) == ([], [])


def test_menus_check_fails_a_config_that_would_speak_hindi_with_an_english_voice(tmp_path):
    config = tmp_path / "config.yaml"
    config.write_text("ivr:\n  voices:\n"
                      "    en: {language: en-IN, twilio_voice: Polly.Raveena}\n"
                      "    hi: {language: hi-IN, twilio_voice: Polly.Raveena}\n"
                      "    bn: {language: bn-IN, twilio_voice: Google.bn-IN-Standard-A}\n",
                      encoding="utf-8")
    result = CliRunner().invoke(main, ["--config", str(config), "menus", "check"])
    assert result.exit_code != 0
    assert "ivr.voices.hi.twilio_voice: 'Polly.Raveena' does not speak hi-IN" in result.output


def test_a_provider_in_use_without_audio_for_a_language_fails_the_check(tmp_path):
    ivr = load_settings(overrides={"ivr": {"providers": ["africastalking"]}}).ivr
    errors, _ = voice_report(load_flows(MENU_DIR), ivr, tmp_path)
    assert "[africastalking] main.yaml: screens.menu.prompt [hi] voice: no TTS voice and no " \
           "recording (hi/main.menu.mp3)" in errors
    assert not any(error.startswith("[twilio]") for error in errors)  # Twilio speaks all three


def test_brackets_slashes_and_codes_in_voice_text_are_flagged(tmp_path):
    menus = tmp_path / "menus"
    shutil.copytree(MENU_DIR, menus, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    path = menus / "booking.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace('voice: {en: "Choose a time.", hi: "समय चुनें।"',
                                 'voice: {en: "Choose a time (22) / K7QP3M", hi: "समय चुनें।"'),
                    encoding="utf-8")

    problems = spoken_form_problems(load_flows(menus))
    assert problems == ["booking.yaml: screens.pick_window.voice [en] voice: '(' cannot be "
                        "spoken (give the screen a voice: wording)"]
    assert spoken_form_problems(load_flows(MENU_DIR)) == []


def test_recording_texts_keep_the_fixed_words_around_variables():
    texts = recordings.recording_texts(load_flows(MENU_DIR), "hi")
    assert texts["main.menu.option1"] == "रजिस्टर करने के लिए 1 दबाएँ।"
    assert texts["main.pick_language.option2"] == "हिंदी के लिए 2 दबाएँ।"
    assert texts["main.booked_recently.part1"] == "आपकी बुकिंग पक्की है। आपका कोड है"
    assert not any("{" in text for text in texts.values())


@pytest.fixture
def at_app(database_url, redis_url, db, redis_client, built_recordings):
    from gateway import create_app

    return create_app(load_settings(overrides={
        "database_url": database_url, "redis_url": redis_url, "testing": True,
        "demo_data": False, "secret_key": "test-secret",
        "ivr": {"audio_dir": str(built_recordings)}}))


@pytest.mark.usefixtures("demo_centers")
@pytest.mark.parametrize("key, lang", [("2", "hi"), ("3", "bn")])
def test_on_africas_talking_hindi_and_bengali_are_played_from_recordings(at_app, key, lang):
    client = at_app.test_client()
    caller = VoicePhone(client, "africastalking", phone=f"+9198333333{key}0")
    first = caller.call()
    assert not any(INDIC.search(text) for text, _ in first.said)
    assert any(f"/generated/{at_app.extensions['vaxgate'].flows.version}/{lang}/"
               f"main.pick_language.option{key}.wav" in url for url in first.played)

    menu = caller.press(key)
    assert menu.said == [] and len(menu.played) >= 5  # prompt, four options, "press star"
    wav = client.get(menu.played[0].removeprefix("http://localhost"))
    assert wav.status_code == 200 and wav.data[:4] == b"RIFF"


@pytest.mark.usefixtures("demo_centers")
def test_on_twilio_the_language_menu_speaks_each_language_in_its_own_voice(ivr_client):
    caller = VoicePhone(ivr_client, "twilio", phone="+919844444440")
    first = caller.call()
    assert ("हिंदी के लिए 2 दबाएँ।", "Polly.Aditi") in first.said
    assert ("বাংলা চাইলে 3 টিপুন।", "Google.bn-IN-Standard-A") in first.said
    assert 'language="bn-IN"' in first.xml and 'language="hi-IN"' in first.xml


@pytest.mark.usefixtures("demo_centers")
@pytest.mark.parametrize("provider", ["twilio", "africastalking"])
def test_too_many_wrong_keys_on_a_call_say_call_again_not_dial_again(ivr_client, provider):
    caller = VoicePhone(ivr_client, provider, phone="+919855555550")
    caller.call()
    caller.press("1")
    for _ in range(3):
        last = caller.press("8")
    assert last.expect == "hangup" and "call again" in last.text and "dial" not in last.text


@pytest.mark.usefixtures("demo_centers")
def test_the_silence_sms_fits_where_the_caller_was(ivr_client, db):
    from sqlalchemy import select

    from gateway.storage.ledger import Message

    idle = VoicePhone(ivr_client, "twilio", phone="+919877777770")
    idle.call()
    idle.press("1")  # English; then silence at the main menu
    for _ in range(3):
        goodbye = idle.silence()
    assert "how to register or book" in goodbye.text

    begun = VoicePhone(ivr_client, "twilio", phone="+919877777771")
    begun.call()
    begun.press("1")
    begun.press("1")  # Register a person
    begun.speak()
    begun.silence()  # nothing said when asked to say the name once more: the recording only
    for _ in range(3):
        begun.silence()
    with db.read() as session:
        bodies = {m.phone: m.body for m in session.scalars(select(Message))}
    assert "register or book" in bodies[idle.phone] and "before you finished" not in \
        bodies[idle.phone]
    assert "ended before you finished" in bodies[begun.phone]
