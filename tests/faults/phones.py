"""Simulated phones over the real HTTP interface, and what the gateway acknowledged to them.

A *caller* dials the USSD code with a new number, registers one person and books the first
offered slot, one HTTP request per step, as Africa's Talking would. Acknowledged: the
"Registered <name>." screen (a registration) and the ``END Booked! Code XXXXXX`` screen (a
booking). Anything else ends the journey: the caller redials the same number once (the
"resume" probe: whatever happened, the first screen must be a ``CON`` menu, never an error)
and then starts again with a new number. An *OTP requester* asks ``POST /api/v1/otp`` for a
new number each time; a 201 is an acknowledged OTP.
"""
from __future__ import annotations

import itertools
import re
import threading
import time
from collections import Counter
from dataclasses import dataclass, field

import requests

from tests.sms.support import API_KEY

SERVICE_CODE = "*384*1234#"
CLIENT_TIMEOUT_S = 10.0  # what an aggregator waits for one step
NAMES = ["Sita Devi", "Ram Lal", "Asha Kumari", "Mohan Das", "Gita Rani", "Suresh Yadav"]
PINCODES = ["800020", "226001", "700026", "492001"]
REGISTER_ANSWERS = 9  # answers up to and including "confirm" of the registration
BOOKED = re.compile(r"^END Booked! Code ([A-Z0-9]{4,12})")


@dataclass(frozen=True)
class Ack:
    kind: str  # registration | booking | otp
    phone: str
    detail: str  # the person's name, the booking reference, the OTP transaction id
    at: float = field(default_factory=time.time)  # for an OTP: when it was asked for


@dataclass
class Traffic:
    """Everything the phones sent and were told, shared by their threads."""

    requests: int = 0
    acks: list[Ack] = field(default_factory=list)
    statuses: Counter = field(default_factory=Counter)  # HTTP status (0: no answer)
    endings: Counter = field(default_factory=Counter)  # unexpected END screens, by text
    probes: list[tuple[float, int, str]] = field(default_factory=list)  # redial: sent, answer
    slowest_s: dict[str, float] = field(default_factory=dict)  # by channel: ussd, otp
    lock: threading.Lock = field(default_factory=threading.Lock)

    def sent(self, status: int, seconds: float, channel: str = "ussd") -> None:
        with self.lock:
            self.requests += 1
            self.statuses[status] += 1
            self.slowest_s[channel] = max(self.slowest_s.get(channel, 0.0), seconds)

    def ack(self, kind: str, phone: str, detail: str, at: float | None = None) -> None:
        with self.lock:
            self.acks.append(Ack(kind, phone, detail, at or time.time()))

    def acked(self, kind: str) -> list[Ack]:
        with self.lock:
            return [a for a in self.acks if a.kind == kind]

    def menus_on_redial(self, since: float = 0.0, cut: bool = False) -> bool:
        """Every redial begun after ``since`` was answered 200 with a menu (CON); with ``cut``,
        a redial whose connection a killed process cut (status 0) is let pass."""
        with self.lock:
            return all(status == 200 and body.startswith("CON") or cut and status == 0
                       for at, status, body in self.probes if at >= since)

    def server_errors(self) -> int:
        """Answers 5xx other than 503 (a dependency down, try again: the graceful answer)."""
        with self.lock:
            return sum(n for code, n in self.statuses.items() if code >= 500 and code != 503)


class Numbers:
    """Unique valid Indian mobile numbers; ``scenario`` (0-9) keeps runs apart."""

    def __init__(self, scenario: int):
        self.prefix = f"+919{scenario}"
        self.counter = itertools.count(1)
        self.lock = threading.Lock()

    def next(self) -> str:
        with self.lock:
            return f"{self.prefix}{next(self.counter):08d}"


def answers_for(n: int) -> list[str]:
    """Language, Register, name, year, gender, ID type, ID digits, PIN code, confirm; then
    Book now, first date, first center, first window, confirm."""
    return ["1", "1", NAMES[n % len(NAMES)], str(1950 + n % 40), "2", "1", f"{n % 10000:04d}",
            PINCODES[n % len(PINCODES)], "1", "1", "1", "1", "1", "1"]


class Caller:
    """One simulated feature phone walking journeys until ``stop`` is set."""

    def __init__(self, url: str, numbers: Numbers, traffic: Traffic, stop: threading.Event,
                 step_pause: float = 0.0):
        self.url, self.numbers, self.traffic, self.stop = url, numbers, traffic, stop
        self.step_pause = step_pause  # s between steps: bounds the traffic of a long scenario
        self.http = requests.Session()

    def run(self) -> None:
        journeys = itertools.count()
        while not self.stop.is_set():
            self.journey(self.numbers.next(), next(journeys))

    def step(self, phone: str, session: str, text: str) -> tuple[int, str]:
        form = {"sessionId": session, "serviceCode": SERVICE_CODE, "phoneNumber": phone,
                "networkCode": "40410", "text": text}
        began = time.monotonic()
        try:
            reply = self.http.post(self.url + "/ussd/africastalking", data=form,
                                   timeout=CLIENT_TIMEOUT_S)
            status, body = reply.status_code, reply.text
        except requests.RequestException:  # a killed worker, a reset connection
            status, body = 0, ""
        self.traffic.sent(status, time.monotonic() - began)
        return status, body

    def journey(self, phone: str, n: int) -> None:
        answers = answers_for(n)
        session = f"f{phone[1:]}-1"
        for index in range(len(answers) + 1):
            if index and self.step_pause:
                time.sleep(self.step_pause)
            status, body = self.step(phone, session, "*".join(answers[:index]))
            done = index == len(answers)
            if status != 200 or body.startswith("END ") != done:
                self.interrupted(phone, body if status == 200 else f"HTTP {status}")
                return
            if index == REGISTER_ANSWERS and body.startswith("CON Registered "):
                self.traffic.ack("registration", phone, answers[2])
        booked = BOOKED.match(body)
        if booked:
            self.traffic.ack("booking", phone, booked[1])
        else:
            self.interrupted(phone, body)

    def interrupted(self, phone: str, ending: str) -> None:
        """Count the ending, then redial once: the first screen must be a menu (CON)."""
        with self.traffic.lock:
            self.traffic.endings[ending.splitlines()[0][:70]] += 1
        time.sleep(0.2)
        sent = time.time()  # when the redial began: one sent during an outage may fail
        status, body = self.step(phone, f"f{phone[1:]}-2", "")
        with self.traffic.lock:
            self.traffic.probes.append((sent, status, body[:40]))


class OtpRequester:
    """Requests one OTP per new number, until ``stop`` is set (``pause`` s apart)."""

    def __init__(self, url: str, numbers: Numbers, traffic: Traffic, stop: threading.Event,
                 pause: float = 0.3):
        self.url, self.numbers, self.traffic, self.stop = url, numbers, traffic, stop
        self.pause = pause
        self.http = requests.Session()

    def run(self) -> None:
        while not self.stop.is_set():
            phone = self.numbers.next()
            began, asked = time.monotonic(), time.time()
            try:
                reply = self.http.post(self.url + "/api/v1/otp", json={"phone": phone},
                                       headers={"X-API-Key": API_KEY}, timeout=CLIENT_TIMEOUT_S)
                status = reply.status_code
            except requests.RequestException:
                status = 0
            self.traffic.sent(status, time.monotonic() - began, "otp")
            if status == 201:
                self.traffic.ack("otp", phone, reply.json()["transaction_id"], at=asked)
            self.stop.wait(self.pause)


class Phones:
    """``callers`` USSD threads and ``otp`` OTP threads against ``url``; a context manager
    that stops and joins them on exit."""

    def __init__(self, url: str, scenario: int, callers: int = 4, otp: int = 1,
                 otp_pause: float = 0.3, step_pause: float = 0.0):
        self.traffic = Traffic()
        self.stop = threading.Event()
        ussd_numbers, otp_numbers = Numbers(scenario), Numbers(scenario)
        otp_numbers.counter = itertools.count(50_000_000)
        workers = [Caller(url, ussd_numbers, self.traffic, self.stop, step_pause)
                   for _ in range(callers)]
        workers += [OtpRequester(url, otp_numbers, self.traffic, self.stop, otp_pause)
                    for _ in range(otp)]
        self.threads = [threading.Thread(target=w.run, daemon=True) for w in workers]
        self.prefix = ussd_numbers.prefix

    def __enter__(self) -> Phones:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=CLIENT_TIMEOUT_S * 3)

    def wait_for(self, kind: str, count: int, timeout: float) -> None:
        """Until ``count`` acknowledgements of ``kind`` more than now, or ``timeout``."""
        target = len(self.traffic.acked(kind)) + count
        deadline = time.monotonic() + timeout
        while len(self.traffic.acked(kind)) < target and time.monotonic() < deadline:
            time.sleep(0.1)
