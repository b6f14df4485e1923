"""A local fake of Gupshup Enterprise SMS over real HTTP: its send API and its reports.

``POST /GatewayAPI/rest`` takes the documented form and answers one text line, ``success |
919812345678 | <id>`` or ``error | <code> | <text>``. Like an operator, it checks the DLT
fields of a number in India and matches ``msg`` against the pattern registered for
``dltTemplateId``: a message that does not match is accepted and then silently dropped (its
mode is ``dropped``; it is not among :meth:`Behaviour.delivered`). Modes: ok, invalid_number,
template, auth, 429, 5xx, hang, malformed. :meth:`FakeGupshup.report` builds the delivery
report Gupshup would send for a message id.
"""
from __future__ import annotations

import itertools
import re
import time
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs

from tests.loopback import LoopbackServer

from .fake_provider import Behaviour

PATH = "/GatewayAPI/rest"
REQUIRED = ("method", "send_to", "msg", "msg_type", "userid", "password", "auth_scheme", "v")
DLT_FIELDS = ("principalEntityId", "dltTemplateId", "mask")
# The error codes other than 105 ("Invalid mobile number", documented) are illustrative.
ERRORS = {"invalid_number": "error | 105 | Invalid mobile number",
          "template": "error | 177 | The DLT template id is not registered for this entity",
          "auth": "error | 101 | Authentication failed due to invalid userId or password",
          "missing": "error | 100 | Missing parameter: {field}"}
HTTP_ERRORS = {"429": 429, "5xx": 503}


class FakeGupshup(LoopbackServer):
    """``url`` is the ``base_url`` for settings; ``patterns`` maps template id -> pattern."""

    def __init__(self):
        self.gupshup = Behaviour()
        self.patterns: dict[str, str] = {}
        self.ids = itertools.count(1)
        super().__init__(_handler(self))

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def reset(self) -> None:
        self.gupshup.reset()
        self.patterns = {}

    @staticmethod
    def report(external_id: str, status: str = "SUCCESS", cause: str = "SUCCESS",
               err_code: str = "000", phone: str = "919812345678") -> dict[str, str]:
        """The delivery report Gupshup sends for ``external_id``."""
        return {"externalId": external_id, "deliveredTS": "1764979200000", "status": status,
                "cause": cause, "phoneNo": phone, "errCode": err_code, "noOfFrags": "1"}


def operator_accepts(pattern: str, msg: str) -> bool:
    """The operator's check: fixed text exact, each {#var#} up to 30 characters."""
    parts = [re.escape(p) for p in pattern.split("{#var#}")]
    return re.fullmatch("(.{0,30})".join(parts), msg, re.DOTALL) is not None


def _handler(fake: FakeGupshup):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def do_POST(self):
            length = int(self.headers.get("Content-Length", 0))
            form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
            if self.path != PATH:
                return self._send(404, "no such endpoint")
            mode = fake.gupshup.mode
            status, answer, recorded = _answer(fake, mode, form)
            fake.gupshup.record(form, dict(self.headers), recorded)
            if mode == "hang":
                time.sleep(fake.gupshup.hang_seconds)
            time.sleep(fake.gupshup.delay)
            self._send(status, answer)

        def _send(self, status: int, body: str):
            data = body.encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                pass

    return Handler


def _answer(fake: FakeGupshup, mode: str, form: dict) -> tuple[int, str, str]:
    """(HTTP status, body, the mode recorded) for one send."""
    if mode in HTTP_ERRORS:
        return HTTP_ERRORS[mode], "fake failure", mode
    if mode == "malformed":
        return 200, "<html>gateway busy</html>", mode
    if mode in ERRORS:
        return 200, ERRORS[mode], mode
    needed = REQUIRED + (DLT_FIELDS if form.get("send_to", "").startswith("91") else ())
    missing = next((f for f in needed if not form.get(f)), None)
    if missing:
        return 200, ERRORS["missing"].format(field=missing), "missing"
    reply = f"success | {form['send_to']} | 3562707498794989059-{next(fake.ids)}"
    pattern = fake.patterns.get(form.get("dltTemplateId", ""))
    if form["send_to"].startswith("91") and not (pattern and operator_accepts(pattern,
                                                                              form["msg"])):
        return 200, reply, "dropped"
    return 200, reply, "ok"
