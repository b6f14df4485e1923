"""A test "phone" for voice calls: it posts what Twilio or Africa's Talking would post, parses
the TwiML / AT voice XML the gateway answers, and follows its action URLs with keyed digits,
silence or a recording."""
from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from urllib.parse import urlsplit
from xml.etree import ElementTree as ET

import pytest
from twilio.request_validator import RequestValidator

from gateway import create_app
from gateway.config import load_settings

_calls = itertools.count(1)


@dataclass
class Turn:
    """What the caller hears after one request, and where the next answer goes."""

    status: int
    xml: str
    said: list[tuple[str, str]] = field(default_factory=list)  # (text, voice or language)
    played: list[str] = field(default_factory=list)
    expect: str = "hangup"  # "key", "digits", "record" or "hangup"
    action: str = ""  # Gather/GetDigits or Record URL
    redirect: str = ""  # where silence leads

    @property
    def text(self) -> str:
        """Everything said, as one string."""
        return " ".join(text for text, _ in self.said)


def parse_turn(status: int, body: str) -> Turn:
    """Parse TwiML or AT voice XML (same shape: Response > Gather|GetDigits|Record|Say...)."""
    turn = Turn(status, body)
    if not body:
        return turn
    root = ET.fromstring(body)
    assert root.tag == "Response", body
    for element in root:
        if element.tag in ("Gather", "GetDigits"):
            turn.expect = "key" if element.get("numDigits") == "1" else "digits"
            turn.action = element.get("action") or element.get("callbackUrl") or ""
            _collect(turn, element)
        elif element.tag == "Record":
            turn.expect = "record"
            turn.action = element.get("action") or element.get("callbackUrl") or ""
            _collect(turn, element)
        elif element.tag == "Redirect":
            turn.redirect = element.text or ""
        else:
            _collect(turn, [element])
    return turn


def _collect(turn: Turn, elements) -> None:
    for element in elements:
        if element.tag == "Say":
            turn.said.append((element.text or "", element.get("voice") or
                              element.get("language") or ""))
        elif element.tag == "Play":
            turn.played.append(element.get("url") or element.text or "")


class VoicePhone:
    """One caller on one provider. ``token`` signs Twilio requests like Twilio does."""

    def __init__(self, client, provider: str, phone: str = "+919876543210",
                 token: str | None = None):
        self.client, self.provider, self.phone, self.token = client, provider, phone, token
        self.call_id = ""
        self.turn: Turn | None = None

    def call(self) -> Turn:
        """Dial in: a new call id."""
        n = next(_calls)
        self.call_id = f"CA{n:032x}" if self.provider == "twilio" else f"ATVId_{n:08d}"
        return self.post(f"http://localhost/ivr/{self.provider}", {})

    def press(self, keys: str) -> Turn:
        """Key ``keys`` at the current Gather/GetDigits."""
        assert self.turn and self.turn.expect in ("key", "digits"), self.turn
        return self.post(self.turn.action, {"digits": keys})

    def silence(self) -> Turn:
        """Press nothing: the provider follows the Redirect after the prompt."""
        assert self.turn and self.turn.redirect, self.turn
        return self.post(self.turn.redirect, {})

    def speak(self, recording_url: str = "https://api.twilio.com/rec/RE1.mp3") -> Turn:
        """Answer a Record prompt; the provider posts the recording's URL."""
        assert self.turn and self.turn.expect == "record", self.turn
        return self.post(self.turn.action, {"recording": recording_url})

    def hang_up(self) -> Turn:
        """Africa's Talking's end-of-call notification."""
        return self.post(f"http://localhost/ivr/{self.provider}", {"active": "0"})

    def post(self, url: str, fields: dict[str, str], form: dict | None = None,
             headers: dict | None = None) -> Turn:
        """POST the provider's form to ``url`` (absolute, as found in the XML)."""
        data = form if form is not None else self.form(fields)
        headers = dict(headers or {})
        if self.token and self.provider == "twilio":
            headers["X-Twilio-Signature"] = RequestValidator(self.token).compute_signature(
                url, data)
        parts = urlsplit(url)
        response = self.client.post(parts.path + (f"?{parts.query}" if parts.query else ""),
                                    data=data, headers=headers)
        self.turn = parse_turn(response.status_code, response.get_data(as_text=True))
        return self.turn

    def form(self, fields: dict[str, str]) -> dict[str, str]:
        """The provider's field names for our neutral ones."""
        if self.provider == "twilio":
            data = {"CallSid": self.call_id, "From": self.phone, "To": "+18005550100",
                    "CallStatus": "in-progress", "Direction": "inbound"}
            names = {"digits": "Digits", "recording": "RecordingUrl"}
        else:
            data = {"sessionId": self.call_id, "callerNumber": self.phone, "isActive": "1",
                    "direction": "Inbound", "destinationNumber": "+911800000000"}
            names = {"digits": "dtmfDigits", "recording": "recordingUrl", "active": "isActive"}
        data.update({names[key]: value for key, value in fields.items()})
        return data


@pytest.fixture(autouse=True)
def _no_provider_secrets(monkeypatch):
    """Signatures and secrets are off unless a test sets them."""
    for var in ("TWILIO_AUTH_TOKEN", "AT_VOICE_SECRET"):
        monkeypatch.delenv(var, raising=False)
        monkeypatch.delenv(f"{var}_FILE", raising=False)


@pytest.fixture
def audio_dir(tmp_path):
    """An empty folder of recorded prompts."""
    folder = tmp_path / "audio"
    folder.mkdir()
    return folder


@pytest.fixture
def ivr_app(database_url, redis_url, db, redis_client, audio_dir):
    settings = load_settings(overrides={
        "database_url": database_url, "redis_url": redis_url, "testing": True,
        "demo_data": False, "secret_key": "test-secret",
        "ivr": {"audio_dir": str(audio_dir)}})
    return create_app(settings)


@pytest.fixture
def ivr_client(ivr_app):
    return ivr_app.test_client()


@pytest.fixture(params=["twilio", "africastalking"])
def caller(request, ivr_client) -> VoicePhone:
    """A caller on each provider in turn."""
    return VoicePhone(ivr_client, request.param)
