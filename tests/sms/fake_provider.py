"""A local fake SMS provider over real HTTP: Twilio's and Africa's Talking's send endpoints.

Each test programs the behaviour per provider (``fake.twilio.mode = "5xx"``) and reads what
was received (``fake.twilio.received``). Modes: ok, 4xx, permanent, 429, 5xx, hang,
malformed. ``delay`` adds latency to every answer (the benchmark uses ~50 ms).
"""
from __future__ import annotations

import json
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs

from tests.loopback import LoopbackServer


@dataclass
class Behaviour:
    mode: str = "ok"
    delay: float = 0.0
    hang_seconds: float = 3.0
    received: list[dict] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, form: dict, headers: dict, mode: str = "ok") -> int:
        with self.lock:
            self.received.append({"form": form, "headers": headers, "mode": mode})
            return len(self.received)

    def delivered(self) -> list[dict]:
        """The forms this provider accepted (answered in mode ``ok``): what phones got."""
        with self.lock:
            return [r["form"] for r in self.received if r["mode"] == "ok"]

    def reset(self) -> None:
        with self.lock:
            self.mode, self.delay, self.received = "ok", 0.0, []


TWILIO_ERRORS = {  # mode -> (status, twilio code)
    "4xx": (400, 21606), "permanent": (400, 21211), "429": (429, 20429), "5xx": (503, 20500),
}
AT_ERRORS = {"4xx": 400, "429": 429, "5xx": 503}


class FakeProvider(LoopbackServer):
    """A threaded HTTP server; ``url`` is its base URL for ``base_url`` in settings."""

    def __init__(self):
        self.twilio = Behaviour()
        self.africastalking = Behaviour()
        super().__init__(_handler(self))

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def reset(self) -> None:
        self.twilio.reset()
        self.africastalking.reset()


def _handler(fake: FakeProvider):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):  # keep test output clean
            pass

        def do_POST(self):
            length = int(self.headers.get("Content-Length", 0))
            form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
            if self.path.startswith("/2010-04-01/Accounts/"):
                self._answer(fake.twilio, form, _twilio_reply)
            elif self.path.startswith("/version1/messaging"):
                self._answer(fake.africastalking, form, _at_reply)
            else:
                self._send(404, "text/plain", "no such endpoint")

        def _answer(self, behaviour: Behaviour, form: dict, reply):
            mode = behaviour.mode  # read once: a test may flip it while this one sleeps
            behaviour.record(form, dict(self.headers), mode)
            if mode == "hang":
                time.sleep(behaviour.hang_seconds)
            time.sleep(behaviour.delay)
            self._send(*reply(mode, form))

        def _send(self, status: int, content_type: str, body: str):
            data = body.encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (timeout test)

    return Handler


def _twilio_reply(mode: str, form: dict) -> tuple[int, str, str]:
    if mode == "malformed":
        return 201, "application/json", "{not json"
    if mode in TWILIO_ERRORS:
        status, code = TWILIO_ERRORS[mode]
        return status, "application/json", json.dumps(
            {"code": code, "message": f"fake error {code}", "status": status})
    sid = "SM" + uuid.uuid4().hex
    return 201, "application/json", json.dumps(
        {"sid": sid, "status": "queued", "to": form.get("To"), "body": form.get("Body")})


def _at_reply(mode: str, form: dict) -> tuple[int, str, str]:
    if mode == "malformed":
        return 201, "application/json", '{"SMSMessageData": {"Recipients": []}}'
    if mode in AT_ERRORS:
        return AT_ERRORS[mode], "text/plain", "fake failure"
    if mode == "permanent":
        recipient = {"statusCode": 403, "status": "InvalidPhoneNumber", "number": form.get("to")}
    else:
        recipient = {"statusCode": 101, "status": "Success", "number": form.get("to"),
                     "messageId": "ATXid_" + uuid.uuid4().hex, "cost": "INR 0.20"}
    return 201, "application/json", json.dumps(
        {"SMSMessageData": {"Message": "Sent to 1/1", "Recipients": [recipient]}})
