"""Screens as speech: spoken dates, times and codes; long lists in pages; TwiML and AT XML."""
from __future__ import annotations

import datetime as dt
from xml.etree import ElementTree as ET

import pytest

from gateway import MENU_DIR
from gateway.config import IvrSettings
from gateway.flows import Option, Screen, load_flows
from gateway.ivr.africastalking_adapter import render_at_xml
from gateway.ivr.call import placeholder_name
from gateway.ivr.twilio_adapter import ActionUrls, render_twiml
from gateway.ivr.voice import (
    AudioLibrary,
    Speaker,
    Speech,
    VoicePrompt,
    option_for_key,
    page_options,
    speak_text,
    spoken_date,
    spoken_time,
)

URLS = ActionUrls(gather="https://gw/ivr/twilio/gather", record="https://gw/ivr/twilio/record")


@pytest.mark.parametrize("lang, spoken", [
    ("en", "Monday, 23 November"), ("hi", "सोमवार, 23 नवंबर"), ("bn", "সোমবার, 23 নভেম্বর"),
])
def test_dates_are_spoken_in_full_in_each_language(lang, spoken):
    assert spoken_date(dt.date(2026, 11, 23), lang) == spoken


@pytest.mark.parametrize("hour, minute, lang, spoken", [
    (9, 0, "en", "9 AM"), (14, 30, "en", "2:30 PM"), (12, 0, "en", "12 PM"),
    (9, 0, "hi", "सुबह 9 बजे"), (14, 0, "hi", "दोपहर 2 बजे"), (17, 0, "bn", "বিকেল 5টা"),
])
def test_times_are_spoken_naturally(hour, minute, lang, spoken):
    assert spoken_time(hour, minute, lang) == spoken


@pytest.mark.parametrize("text, lang, spoken", [
    ("Mon 23 Nov", "en", "Monday, 23 November"),
    ("সোম 23 নভে", "en", "Monday, 23 November"),  # a Bengali label spoken in English
    ("09:00-11:00 (12)", "en", "9 AM to 11 AM, 12 places free"),
    ("09:00-11:00", "hi", "सुबह 9 बजे से सुबह 11 बजे तक"),
    ("Code K7QP3M", "en", "Code K, 7, Q, P, 3, M"),
    ("PIN 800020, year 1948", "en", "PIN 800020, year 1948"),  # digits alone are no code
])
def test_ussd_text_becomes_speakable(text, lang, spoken):
    assert speak_text(text, lang) == spoken


@pytest.mark.parametrize("count, page, keys, more", [
    (3, 0, ["1", "2", "3"], False),
    (9, 0, [str(n) for n in range(1, 10)], False),   # up to 9: all at once, 9 is an option
    (12, 0, [str(n) for n in range(1, 9)], True),    # more than 9: pages of 8, 9 = more
    (12, 1, ["1", "2", "3", "4"], False),
])
def test_long_lists_are_read_in_pages_of_eight(count, page, keys, more):
    shown, has_more = page_options(count, page)
    assert [key for key, _ in shown] == keys and has_more is more


@pytest.mark.parametrize("count, page, key, answer", [
    (12, 0, "3", "3"), (12, 1, "3", "11"), (12, 1, "5", None), (4, 0, "5", None),
])
def test_keys_choose_on_the_current_page(count, page, key, answer):
    assert option_for_key(count, page, key) == answer


def test_a_paged_list_says_press_9_for_more_and_star_to_repeat(tmp_path):
    flows = load_flows(MENU_DIR)
    options = tuple(Option(str(n), f"Center {n}") for n in range(1, 13))
    screen = Screen("booking.pick_center", "booking.pick_center", "", options=options,
                    variables={"date_label": "Mon 23 Nov", "date": "2026-11-23"})
    speaker = Speaker(flows, frozenset({"en", "hi"}), AudioLibrary(tmp_path))
    first, second = speaker.screen(screen, 0), speaker.screen(screen, 1)
    texts = [part.text for part in first.speech]
    assert texts[0] == "Centers with free slots on Monday, 23 November:"
    assert texts[1] == "For Center 1, press 1." and texts[8] == "For Center 8, press 8."
    assert texts[-2:] == ["For more choices, press 9.", "To hear this again, press star."]
    assert second.speech[1].text == "For Center 9, press 1."


def test_a_placeholder_name_passes_the_name_validator_and_differs_per_recording():
    first, second = placeholder_name("https://r/1.mp3"), placeholder_name("https://r/2.mp3")
    assert first != second and first.startswith("Voice ") and first[6:].isalpha()


def _prompt(expect: str) -> VoicePrompt:
    return VoicePrompt((Speech("Hello", "hi"), Speech(audio_url="https://a/x.mp3")), expect)


def test_twiml_gathers_one_key_for_a_menu_and_redirects_on_silence():
    root = ET.fromstring(render_twiml(_prompt("key"), URLS, IvrSettings()))
    gather, redirect = root
    assert gather.tag == "Gather" and gather.get("numDigits") == "1"
    assert gather.get("finishOnKey") == "#" and gather.get("action") == URLS.gather
    say, play = gather
    assert (say.get("language"), say.get("voice"), play.text) == ("hi-IN", "Polly.Aditi",
                                                                  "https://a/x.mp3")
    assert redirect.tag == "Redirect" and redirect.text == URLS.gather


def test_twiml_records_a_name_and_hangs_up_at_the_end():
    record = ET.fromstring(render_twiml(_prompt("record"), URLS, IvrSettings())).find("Record")
    assert record.get("action") == URLS.record and record.get("finishOnKey") == "#"
    assert record.get("maxLength") == "10" and record.get("playBeep") == "true"
    final = ET.fromstring(render_twiml(_prompt("hangup"), URLS, IvrSettings()))
    assert [child.tag for child in final] == ["Say", "Play", "Hangup"]


def test_africastalking_xml_uses_getdigits_record_say_and_play():
    gather = ET.fromstring(render_at_xml(_prompt("digits"), URLS, IvrSettings()))
    get_digits = gather.find("GetDigits")
    assert get_digits.get("callbackUrl") == URLS.gather and "numDigits" not in get_digits.attrib
    assert get_digits.find("Say").get("playBeep") == "false"
    assert get_digits.find("Play").get("url") == "https://a/x.mp3"
    record = ET.fromstring(render_at_xml(_prompt("record"), URLS, IvrSettings())).find("Record")
    assert record.get("trimSilence") == "true" and record.get("callbackUrl") == URLS.record
