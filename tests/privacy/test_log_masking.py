"""Logs never hold a whole phone number, an OTP or a PIN: every record of a full journey is
captured at DEBUG (pytest's caplog, and the gateway's own handler from gateway/infra/logs.py) while
a citizen registers and books over USSD, a portal requests and verifies an OTP (the worker
sends it), and a health worker signs in with her PIN."""
from __future__ import annotations

import io
import logging
import re

import pytest

from gateway import create_app
from gateway.healthworkers import accounts
from gateway.infra.logs import QUIET, configure_logging, mask_numbers
from gateway.sms import otp_codes
from gateway.sms.outbox import QUEUES
from tests.conftest import UssdPhone
from tests.healthworkers.conftest import WORKER_PHONE
from workers import jobs
from workers.worker import Worker, build_context

CITIZEN, OTP_PHONE, HW_PIN = "+919812366501", "+919812366502", "730591"
API_KEY = "log-test-key"


@pytest.fixture
def gateway_logs():
    """The gateway's own log handler (gateway/infra/logs.py) writing to a string, undone after."""
    names = ["", *QUIET]
    levels = {name: logging.getLogger(name).level for name in names}
    stream = io.StringIO()
    handler = configure_logging(logging.DEBUG, stream)
    yield stream
    logging.getLogger().removeHandler(handler)
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)


@pytest.fixture
def captured(caplog, gateway_logs):
    """All log text of the test: caplog's records and the gateway handler's output."""
    caplog.set_level(logging.DEBUG)
    return lambda: caplog.text + "\n" + "\n".join(
        str(r.exc_info) + str(r.exc_text) for r in caplog.records) + "\n" + gateway_logs.getvalue()


def _forms(phone: str) -> list[str]:
    return [phone, phone[3:]]  # +919812366501 and 9812366501


def _absent(text: str, secret: str) -> bool:
    return re.search(rf"(?<!\d){re.escape(secret)}(?!\d)", text) is None


@pytest.mark.usefixtures("demo_centers")
def test_a_full_journey_logs_no_phone_number_otp_or_pin(captured, settings, db, redis_client,
                                                        worker, monkeypatch):
    monkeypatch.setenv("VAXGATE_API_KEYS", API_KEY)
    client = create_app(settings).test_client()
    citizen = UssdPhone(client, phone=CITIZEN)
    citizen.dial()
    citizen.send("1", "1", "Sita Devi", "1948", "2", "1", "4321", "800020", "1")
    assert citizen.send("1", "1", "1", "1", "1").startswith("END Booked!")
    citizen.post(text="garbage*" * 3)  # a rejected step logs too

    otp = _otp_round_trip(client, settings, redis_client)

    with db.write() as session:
        accounts.set_pin(session, accounts.get(session, worker), HW_PIN)
    health_worker = UssdPhone(client, phone=WORKER_PHONE)
    health_worker.dial()
    health_worker.send("0000")  # a wrong PIN is logged (audited) too
    assert health_worker.send("1", HW_PIN).startswith("CON UPHC Kankarbagh")

    logs = captured()
    assert "otp requested for +91******6502" in logs  # the journey did log, masked
    for phone in (CITIZEN, OTP_PHONE, WORKER_PHONE):
        for form in _forms(phone):
            assert form not in logs, form
    assert _absent(logs, otp) and _absent(logs, HW_PIN)


def _otp_round_trip(client, settings, redis_client) -> str:
    auth = {"X-API-Key": API_KEY}
    txn = client.post("/api/v1/otp", json={"phone": OTP_PHONE}, headers=auth).json[
        "transaction_id"]
    build_context(settings, redis_client)
    try:
        Worker(list(QUEUES), connection=redis_client).work(burst=True,
                                                                 logging_level="DEBUG")
    finally:
        jobs.install(None)
    message_id = int(redis_client.hget(f"vaxgate:otp:txn:{txn}", "message_id"))
    code = otp_codes.unseal(redis_client, settings.secret_key, message_id)
    assert client.post("/api/v1/otp/verify", json={"transaction_id": txn, "code": code},
                       headers=auth).json == {"verified": True}
    return code


@pytest.mark.parametrize("line, masked", [
    ("sms to +919876543210 failed", "sms to +91******3210 failed"),
    ("IntegrityError: (9876543210, 'x')", "IntegrityError: (987***3210, 'x')"),
    ("aadhaar 739182645502 typed", "aadhaar 739*****5502 typed"),
    *[(same, same) for same in ["at 2026-11-22 07:00:00,123 message 42 v1.2.3"]],
])
def test_the_gateway_log_handler_masks_long_numbers_a_library_may_log(line, masked):
    assert mask_numbers(line) == masked


def test_the_gateway_log_handler_masks_tracebacks_too(gateway_logs):
    try:
        raise ValueError("duplicate phone +919876543210")
    except ValueError:
        logging.getLogger("vaxgate.test").exception("failed for %s", "+919876543211")
    text = gateway_logs.getvalue()
    assert "+91******3210" in text and "+91******3211" in text
    assert "9876543210" not in text and "9876543211" not in text
