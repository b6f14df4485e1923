"""One caller's journey per language — register, book, reschedule, cancel — played on USSD
(Africa's Talking) and on IVR (Twilio) against a Flask test client, as golden transcripts.

Everything a caller sees or hears is made repeatable here, in one place:

- the clock is ``CLOCK`` (tests/golden/conftest.py freezes it and loads the demo centers
  for that day, so dates, centers and free places are fixed);
- booking reference codes come from ``reference_codes()``, a seeded stand-in for
  ``gateway.registry.appointments.new_reference`` (the seam
  tests/registry/test_booking_race.py uses);
- phone numbers, USSD session ids, Twilio CallSids and the recording URL are constants.

Nothing else varies, so ``answer_lines`` only splits an answer into lines (USSD: the
screen's lines; TwiML: one element per line) so a git diff points at what changed.
"""
from __future__ import annotations

import datetime as dt
import random
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET
from zoneinfo import ZoneInfo

from twilio.request_validator import RequestValidator

from gateway.registry.appointments import REFERENCE_ALPHABET, REFERENCE_LENGTH

TESTDATA = Path(__file__).resolve().parent / "testdata"
RECORD_ENV = "VAXGATE_GOLDEN_RECORD"  # "1": the test writes transcripts instead (record.py)
CHANNELS = ("ussd", "ivr", "ivr_at")  # ivr: Twilio; ivr_at: Africa's Talking
LANGUAGES = ("en", "hi", "bn")
CLOCK = dt.datetime(2026, 12, 1, 10, 0, tzinfo=ZoneInfo("Asia/Kolkata"))
REFERENCE_SEED = 2026
USSD_CODE = "*384*1234#"
TWILIO_URL = "http://localhost/ivr/twilio"
AT_URL = "http://localhost/ivr/africastalking"
AT_NUMBER = "+911800000000"
TWILIO_TOKEN = "golden-twilio-auth-token"  # requests are signed as Twilio signs them
TWILIO_NUMBER = "+18005550100"
RECORDING_URL = "https://api.twilio.com/2010-04-01/Accounts/AC1/Recordings/REgolden.mp3"
PHONES = {"en": "+919800000001", "hi": "+919800000002", "bn": "+919800000003"}
LANGUAGE_KEYS = {"en": "1", "hi": "2", "bn": "3"}
NAMES = {"en": "Sita Devi", "hi": "Kamla Devi", "bn": "Anita Das"}
_BETWEEN_TAGS = re.compile(r"(?<=>)(?=<)")


@dataclass(frozen=True)
class Step:
    """One thing the caller does: ``dial`` (a new session or call), ``keys`` or ``name``."""

    part: str
    kind: str
    value: str = ""


def journey(lang: str) -> list[Step]:
    """The scripted caller in ``lang``: register, book, reschedule, cancel."""
    return [
        Step("registration", "dial"),
        *_keys("registration", LANGUAGE_KEYS[lang], "1"),  # language; Register a person
        Step("registration", "name", NAMES[lang]),  # typed on USSD, spoken on IVR
        # ...; a PIN code that does not exist (asked again), the home's; confirm
        *_keys("registration", "1948", "2", "1", "1234", "800999", "800020", "1"),
        *_keys("booking", "1", "1", "1", "1", "1"),  # book now: first date, center, time; yes
        Step("reschedule", "dial"),
        *_keys("reschedule", "3", "1", "2", "2", "1", "1", "1"),  # change: the second date
        Step("cancellation", "dial"),
        *_keys("cancellation", "3", "1", "1", "1"),  # My appointments, the booking, cancel, yes
    ]


def _keys(part: str, *answers: str) -> list[Step]:
    return [Step(part, "keys", answer) for answer in answers]


def reference_codes(seed: int = REFERENCE_SEED) -> Callable[[], str]:
    """A stand-in for ``new_reference``: valid codes in a fixed order."""
    draws = random.Random(seed)
    return lambda: "".join(draws.choice(REFERENCE_ALPHABET) for _ in range(REFERENCE_LENGTH))


def answer_lines(answer: str) -> list[str]:
    """An answer as stored: a USSD screen split at line breaks, TwiML between tags."""
    if answer.startswith("<"):
        return _BETWEEN_TAGS.split(answer)
    return answer.split("\n")


def transcript_path(channel: str, lang: str) -> Path:
    """Where the transcript of ``channel`` in ``lang`` is kept."""
    return TESTDATA / f"{channel}_{lang}.json"


def play(client: Any, channel: str, lang: str) -> list[dict[str, Any]]:
    """Play the journey in ``lang`` on ``channel``; every step as {"input", "answer"}."""
    callers = {"ussd": UssdCaller, "ivr": TwilioCaller, "ivr_at": AtCaller}
    caller = callers[channel](client, lang)
    return [caller.play(step) for step in journey(lang)]


class UssdCaller:
    """A feature phone on Africa's Talking USSD: dialling the code opens a new session."""

    def __init__(self, client: Any, lang: str):
        self.client, self.phone = client, PHONES[lang]
        self.sessions, self.history = 0, []

    def play(self, step: Step) -> dict[str, Any]:
        """Dial or answer; the typed text (the code for a dial) and the screen."""
        if step.kind == "dial":
            self.sessions, self.history = self.sessions + 1, []
        else:
            self.history.append(step.value)
        typed = USSD_CODE if step.kind == "dial" else step.value
        return {"input": typed, "answer": answer_lines(self._post())}

    def _post(self) -> str:
        response = self.client.post("/ussd/africastalking", data={
            "sessionId": f"golden-{self.phone[-4:]}-{self.sessions}",
            "serviceCode": USSD_CODE, "phoneNumber": self.phone, "networkCode": "40410",
            "text": "*".join(self.history)})
        return response.get_data(as_text=True)


class TwilioCaller:
    """A caller on Twilio: follows the action URL of each answer's Gather or Record."""

    def __init__(self, client: Any, lang: str):
        self.client, self.phone = client, PHONES[lang]
        self.calls, self.twiml = 0, ""

    def play(self, step: Step) -> dict[str, Any]:
        """Call, key digits or speak the name; the request posted and the TwiML answered."""
        if step.kind == "dial":
            self.calls += 1
            fields = {"url": TWILIO_URL}
        elif step.kind == "name":
            return self._name(step.value)
        else:  # Twilio leaves out the finishing '#'
            fields = {"url": self._action("Gather"), "Digits": step.value}
        self.twiml = self._post(dict(fields))
        return {"input": fields, "answer": answer_lines(self.twiml)}

    def _name(self, name: str) -> dict[str, Any]:
        """The name said after the beep, said once more to be written down (Twilio's
        speech recognition hears ``name``), and confirmed with 1: one step, three requests."""
        posts = [{"url": self._action("Record"), "RecordingUrl": RECORDING_URL},
                 {"SpeechResult": name}, {"Digits": "1"}]
        lines: list[str] = []
        for fields in posts:
            fields.setdefault("url", self._action("Gather"))
            self.twiml = self._post(dict(fields))
            lines += answer_lines(self.twiml)
        return {"input": posts, "answer": lines}

    def _action(self, tag: str) -> str:
        """Where Twilio posts the answer to the last TwiML's ``tag`` (else its gather URL)."""
        element = ET.fromstring(self.twiml).find(tag) if self.twiml.startswith("<") else None
        return element.get("action", "") if element is not None else f"{TWILIO_URL}/gather"

    def _post(self, fields: dict[str, str]) -> str:
        url = fields.pop("url")
        form = {"AccountSid": "AC1", "CallSid": f"CA{self.phone[-4:]}{self.calls:028x}",
                "From": self.phone, "To": TWILIO_NUMBER, "CallStatus": "in-progress",
                "Direction": "inbound", "ApiVersion": "2010-04-01", **fields}
        signature = RequestValidator(TWILIO_TOKEN).compute_signature(url, form)
        response = self.client.post(url.removeprefix("http://localhost"), data=form,
                                    headers={"X-Twilio-Signature": signature})
        return response.get_data(as_text=True)


class AtCaller:
    """A caller on Africa's Talking voice: follows the callbackUrl of each GetDigits or
    Record. Hindi and Bengali there are recordings (AT's Say reads English only): every
    prompt's generated recording exists (empty files; the transcript shows which plays),
    and the menu version in their URLs reads ``VERSION``."""

    def __init__(self, client: Any, lang: str):
        self.client, self.phone = client, PHONES[lang]
        self.calls, self.xml = 0, ""
        self.version = _touch_recordings(client.application)

    def play(self, step: Step) -> dict[str, Any]:
        """Call, key digits or speak the name; the request posted and the XML answered."""
        if step.kind == "dial":
            self.calls += 1
            fields = {"url": AT_URL}
        elif step.kind == "name":
            fields = {"url": self._action("Record"), "recordingUrl": RECORDING_URL}
        else:
            fields = {"url": self._action("GetDigits"), "dtmfDigits": step.value}
        self.xml = self._post(dict(fields))
        answer = self.xml.replace(f"/generated/{self.version}/", "/generated/VERSION/")
        return {"input": fields, "answer": answer_lines(answer.removeprefix(XML_DECLARATION))}

    def _action(self, tag: str) -> str:
        element = ET.fromstring(self.xml).find(tag) if self.xml.startswith("<") else None
        return element.get("callbackUrl", "") if element is not None else f"{AT_URL}/gather"

    def _post(self, fields: dict[str, str]) -> str:
        url = fields.pop("url")
        form = {"sessionId": f"ATVId_{self.phone[-4:]}{self.calls:04d}", "isActive": "1",
                "callerNumber": self.phone, "destinationNumber": AT_NUMBER,
                "direction": "Inbound", **fields}
        response = self.client.post(url.removeprefix("http://localhost"), data=form)
        return response.get_data(as_text=True)


XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>'


def _touch_recordings(app: Any) -> str:
    """An (empty) generated recording of every prompt in hi and bn; the menu version."""
    from gateway.ivr.recordings import audio_folder, generated_folder, recording_texts

    runtime = app.extensions["vaxgate"]
    flows = runtime.flows
    folder = generated_folder(audio_folder(runtime.settings.ivr), flows.version)
    for lang in ("hi", "bn"):
        (folder / lang).mkdir(parents=True, exist_ok=True)
        for key in recording_texts(flows, lang):
            (folder / lang / f"{key}.wav").touch()
    return flows.version
