"""OTP and PIN guessing is limited per transaction, per phone and per source, and the API
says so clearly (429 with Retry-After). The per-transaction OTP limit (3 wrong codes void a
code) is tested in tests/sms/test_otp_and_webhooks.py; the PIN lock after 5 in a row in
tests/healthworkers/test_health_worker_ussd.py."""
from __future__ import annotations

import datetime as dt

import pytest

from gateway import create_app
from gateway.healthworkers import accounts
from gateway.sms import otp_codes
from gateway.storage.models import utcnow
from gateway.web.problems import problem_type
from tests.healthworkers.conftest import PIN

from .support import with_changes

API_KEY = "privacy-test-key"
AUTH = {"X-API-Key": API_KEY}


@pytest.fixture
def otp_client(settings, db, redis_client, monkeypatch):
    """The OTP API with small limits: 3 tries per code, 4 wrong per phone, 5 per source."""
    monkeypatch.setenv("VAXGATE_API_KEYS", API_KEY)
    changed = with_changes(settings, {"otp": {
        "max_attempts": 3, "resend_cooldown_seconds": 0, "max_per_phone_per_hour": 20,
        "max_failures_per_phone_per_hour": 4, "max_failures_per_source_per_hour": 5}})
    return create_app(changed).test_client()


class Portal:
    """A web portal calling the OTP API from one client address."""

    def __init__(self, client, redis_client, secret_key: str, ip: str = "198.51.100.1"):
        self.client, self.redis, self.secret_key, self.ip = client, redis_client, secret_key, ip

    def request(self, phone: str) -> str:
        reply = self.client.post("/api/v1/otp", json={"phone": phone}, headers=AUTH,
                                 environ_base={"REMOTE_ADDR": self.ip})
        assert reply.status_code == 201, reply.json
        return reply.json["transaction_id"]

    def verify(self, txn: str, code: str):
        return self.client.post("/api/v1/otp/verify", json={"transaction_id": txn,
                                                            "code": code},
                                headers=AUTH, environ_base={"REMOTE_ADDR": self.ip})

    def right_code(self, txn: str) -> str:
        """The code the phone received (unsealed with the deployment's secret key)."""
        message_id = int(self.redis.hget(f"vaxgate:otp:txn:{txn}", "message_id"))
        return otp_codes.unseal(self.redis, self.secret_key, message_id)

    def wrong_code(self, txn: str) -> str:
        return f"{(int(self.right_code(txn)) + 1) % 10**6:06d}"


@pytest.fixture
def portal(otp_client, redis_client, settings) -> Portal:
    return Portal(otp_client, redis_client, settings.secret_key)


def _assert_rate_limited(reply, about: str) -> None:
    assert reply.status_code == 429
    assert reply.mimetype == "application/problem+json"
    assert reply.json["type"] == problem_type("rate_limited") and about in reply.json["detail"]
    assert 1 <= int(reply.headers["Retry-After"]) <= 3600
    assert reply.json["retry_after"] == int(reply.headers["Retry-After"])


def test_wrong_codes_are_limited_per_phone_across_its_codes(portal):
    phone = "+919812300001"
    first = portal.request(phone)
    statuses = [portal.verify(first, portal.wrong_code(first)).status_code for _ in range(3)]
    assert statuses == [400, 400, 403]  # the third wrong code voids the transaction
    second = portal.request(phone)
    assert portal.verify(second, portal.wrong_code(second)).status_code == 400  # 4th wrong
    _assert_rate_limited(portal.verify(second, portal.right_code(second)), "this phone")
    other = portal.request("+919812300002")  # another phone, same portal: unaffected
    assert portal.verify(other, portal.right_code(other)).json == {"verified": True}


def test_wrong_codes_are_limited_per_source_address(portal, otp_client, redis_client,
                                                    settings):
    for n in range(5):  # one wrong code for each of five phones, all from one address
        txn = portal.request(f"+91981230010{n}")
        assert portal.verify(txn, portal.wrong_code(txn)).status_code == 400
    victim = portal.request("+919812300200")
    _assert_rate_limited(portal.verify(victim, portal.right_code(victim)), "your address")
    elsewhere = Portal(otp_client, redis_client, settings.secret_key, ip="198.51.100.77")
    assert elsewhere.verify(victim, portal.right_code(victim)).json == {"verified": True}


def test_a_blocked_phone_keeps_its_transaction_for_later(portal, redis_client):
    """Refusing for the limit does not spend one of the code's own tries."""
    phone = "+919812300300"
    redis_client.set(f"vaxgate:otp:fail:phone:{phone}", 4, ex=60)
    txn = portal.request(phone)
    _assert_rate_limited(portal.verify(txn, portal.right_code(txn)), "this phone")
    assert redis_client.hget(f"vaxgate:otp:txn:{txn}", "tries") == b"0"
    redis_client.delete(f"vaxgate:otp:fail:phone:{phone}")
    assert portal.verify(txn, portal.right_code(txn)).json == {"verified": True}


# --- health-worker PIN --------------------------------------------------------------------

def test_wrong_pins_are_capped_per_day_across_locks(db, redis_client, settings,
                                                    worker_with_pin):
    rules = settings.health_workers.model_copy(update={
        "max_pin_failures": 3, "lock_minutes": 1, "max_pin_failures_per_day": 5})
    daily = accounts.daily_failures(redis_client, rules)
    now = utcnow()

    def attempt(pin: str, at: dt.datetime) -> accounts.PinCheck:
        with db.write() as session:
            worker = accounts.get(session, worker_with_pin)
            return accounts.check_pin(session, worker, pin, rules, now=at, daily=daily)

    verdicts = [attempt("0000", now) for _ in range(3)]
    assert [v.tries_left for v in verdicts[:2]] == [2, 1]
    assert verdicts[2].locked_until == now + dt.timedelta(minutes=1)  # 3 in a row
    later = now + dt.timedelta(minutes=2)
    assert attempt("0000", later).tries_left == 2  # the short lock is over
    locked = attempt("0000", later)  # 5th wrong PIN today
    assert locked.locked_until - later > dt.timedelta(hours=23)
    assert not attempt(PIN, later + dt.timedelta(hours=1)).ok  # even the right PIN waits


def test_the_daily_pin_cap_locks_the_ussd_sign_in(hw_phone, settings, db, redis_client,
                                                  worker_with_pin):
    """Wired into the USSD journey: 2 wrong PINs a day (of 5 in a row) lock the account."""
    app = create_app(with_changes(settings, {"health_workers": {
        "max_pin_failures_per_day": 2}}))
    hw_phone.client = app.test_client()
    hw_phone.dial()
    assert "Wrong PIN. 4 tries left." in hw_phone.send("1111")
    assert hw_phone.send("1", "2222").startswith("END Too many wrong PINs: locked until")
    assert redis_client.ttl(f"vaxgate:hw:pin-failures:{worker_with_pin}") > 23 * 3600
