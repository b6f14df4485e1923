"""A fake upstream registry over real HTTP, with a clock the test moves (time travel).

``down_until``: requests before that (test) time get 503. ``refuse``: event kinds answered
with 422. Every request is kept in ``requests`` (with the test time ``at`` it arrived);
``accepted`` lists the bodies answered 2xx in arrival order. A bad signature gets 401.
``hold_seconds`` keeps each request open that long before answering, so concurrent requests
overlap; ``peak_in_flight`` is the most that were open at once.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import threading
import time
from http.server import BaseHTTPRequestHandler

from tests.loopback import LoopbackServer

SECRET = "upstream-secret-for-tests"


class FakeUpstream(LoopbackServer):
    def __init__(self):
        self.clock = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
        self.down_until: dt.datetime | None = None
        self.status_when_down = 503
        self.refuse: set[str] = set()
        self.requests: list[dict] = []
        self.accepted: list[dict] = []
        self.hold_seconds = 0.0
        self.in_flight = self.peak_in_flight = 0
        self.lock = threading.Lock()
        super().__init__(_handler(self))

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/events"

    def reset(self) -> None:
        with self.lock:
            self.down_until, self.refuse = None, set()
            self.requests, self.accepted = [], []
            self.status_when_down = 503
            self.hold_seconds, self.in_flight, self.peak_in_flight = 0.0, 0, 0

    def answer(self, headers: dict, raw: bytes) -> tuple[int, str]:
        """Decide the status for one request and record it."""
        body = json.loads(raw)
        self._hold()
        with self.lock:
            status, text = self._decide(headers, raw, body)
            self.requests.append({"headers": headers, "body": body, "status": status,
                                  "at": self.clock})
            if status == 201:
                self.accepted.append(body)
            return status, text

    def _hold(self) -> None:
        """Keep this request open ``hold_seconds``, counting how many are open at once."""
        with self.lock:
            self.in_flight += 1
            self.peak_in_flight = max(self.peak_in_flight, self.in_flight)
        time.sleep(self.hold_seconds)
        with self.lock:
            self.in_flight -= 1

    def _decide(self, headers: dict, raw: bytes, body: dict) -> tuple[int, str]:
        if not _signature_ok(headers, raw):
            return 401, "bad signature"
        if self.down_until is not None and self.clock < self.down_until:
            return self.status_when_down, "maintenance"
        if body["event"] in self.refuse:
            return 422, "unknown center code"
        return 201, "ok"


def _signature_ok(headers: dict, raw: bytes) -> bool:
    timestamp = headers.get("X-Vaxgate-Timestamp", "")
    expected = hmac.new(SECRET.encode(), timestamp.encode() + b"." + raw, hashlib.sha256)
    return hmac.compare_digest(headers.get("X-Vaxgate-Signature", ""),
                               "sha256=" + expected.hexdigest())


def _handler(fake: FakeUpstream):
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - http.server naming
            raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            status, text = fake.answer(dict(self.headers), raw)
            self.send_response(status)
            self.send_header("Content-Type", "text/plain")
            self.end_headers()
            self.wfile.write(text.encode())

        def log_message(self, *args):
            pass

    return Handler
