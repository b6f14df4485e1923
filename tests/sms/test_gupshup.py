"""Gupshup Enterprise SMS against its local fake over real HTTP: the send API, table-driven,
and the delivery-report webhook."""
from __future__ import annotations

import logging

import pytest

from gateway.config import ConfigError, SmsProviderSettings
from gateway.sms import outbox
from gateway.sms.dlt import DltTag
from gateway.sms.errors import TransportError
from gateway.sms.providers import KINDS
from gateway.sms.providers.gupshup.webhooks import (
    GUPSHUP_CAUSE_OF_CODE,
    GUPSHUP_REASON,
    GUPSHUP_STATUS,
    classify_gupshup,
)
from gateway.sms.secrets import read_secrets
from gateway.storage.ledger import Message, SendAttempt
from gateway.web.webhook_security import require_webhook_security

from .dlt_support import (
    ENTITY_ID,
    GUPSHUP_ENV,
    GUPSHUP_PASSWORD,
    GUPSHUP_SECRET,
    HEADER,
    OTP_EN_ID,
    dlt_settings,
    gupshup_config,
)
from .fake_gupshup import FakeGupshup
from .support import PHONE

TAG = DltTag(ENTITY_ID, HEADER, OTP_EN_ID)
OTP_PATTERN = "{#var#} is your VaxGate verification code. Valid {#var#} min. Do not share it."
OTP_TEXT = "482913 is your VaxGate verification code. Valid 3 min. Do not share it."
CASES = [  # mode, expected (retryable, code) or None for success
    ("ok", None),
    ("invalid_number", (False, "gupshup_105")),
    ("template", (False, "gupshup_177")),
    ("auth", (True, "gupshup_101")),  # another provider's account may work
    ("429", (True, "http_429")),
    ("5xx", (True, "http_503")),
    ("hang", (True, "timeout")),
    ("malformed", (True, "malformed")),
]


@pytest.fixture(scope="module")
def gupshup_server():
    server = FakeGupshup().start()
    yield server
    server.stop()


@pytest.fixture
def gupshup(gupshup_server, monkeypatch) -> FakeGupshup:
    gupshup_server.reset()
    gupshup_server.patterns = {OTP_EN_ID: OTP_PATTERN}
    for var, value in GUPSHUP_ENV.items():
        monkeypatch.setenv(var, value)
    return gupshup_server


def _provider(url: str, timeout: float = 0.5):
    config = SmsProviderSettings(**gupshup_config(url, timeout))
    return KINDS["gupshup"](config, read_secrets(config.credentials_env))


@pytest.mark.parametrize(("mode", "expected"), CASES, ids=[m for m, _ in CASES])
def test_gupshup_classifies_each_answer(gupshup, mode, expected):
    gupshup.gupshup.mode, gupshup.gupshup.hang_seconds = mode, 1.5
    provider = _provider(gupshup.url)
    if expected is None:
        assert provider.send(PHONE, OTP_TEXT, TAG).startswith("3562707498794989059-")
    else:
        with pytest.raises(TransportError) as caught:
            provider.send(PHONE, OTP_TEXT, TAG)
        assert (caught.value.retryable, caught.value.code) == expected
    assert gupshup.gupshup.received[0]["form"]["send_to"] == "919812345678"


def test_gupshup_sends_the_documented_form_with_the_dlt_ids(gupshup):
    _provider(gupshup.url).send(PHONE, OTP_TEXT, TAG)
    [form] = gupshup.gupshup.delivered()
    assert form == {"method": "SendMessage", "send_to": "919812345678", "msg": OTP_TEXT,
                    "msg_type": "TEXT", "userid": GUPSHUP_ENV["GUPSHUP_USERID"],
                    "password": GUPSHUP_PASSWORD, "auth_scheme": "plain", "v": "1.1",
                    "format": "text", "mask": HEADER, "principalEntityId": ENTITY_ID,
                    "dltTemplateId": OTP_EN_ID}


def test_hindi_goes_as_unicode_text(gupshup):
    hindi = "482913 आपका VaxGate कोड है। 3 मिनट तक मान्य। किसी को न बताएँ।"
    _provider(gupshup.url).send(PHONE, hindi, DltTag(ENTITY_ID, HEADER, "1107000000000000001"))
    form = gupshup.gupshup.received[0]["form"]
    assert (form["msg_type"], form["msg"]) == ("Unicode_text", hindi)


def test_the_fake_operator_drops_a_text_that_does_not_match_its_template(gupshup):
    """What vaxgate's refusal and check prevent: accepted, then silently not delivered."""
    _provider(gupshup.url).send(PHONE, OTP_TEXT + " Thanks!", TAG)
    assert gupshup.gupshup.received[0]["mode"] == "dropped"
    assert gupshup.gupshup.delivered() == []


def test_a_dlt_number_without_a_template_id_is_never_sent(gupshup):
    with pytest.raises(TransportError) as caught:
        _provider(gupshup.url).send(PHONE, OTP_TEXT, DltTag(ENTITY_ID, HEADER, ""))
    assert (caught.value.retryable, caught.value.code) == (False, "dlt_unregistered")
    assert gupshup.gupshup.received == []


@pytest.mark.parametrize("mode", ["ok", "auth", "5xx", "hang", "malformed"])
def test_gupshup_credentials_never_appear_in_logs(gupshup, caplog, mode):
    caplog.set_level(logging.DEBUG)
    gupshup.gupshup.mode, gupshup.gupshup.hang_seconds = mode, 1.0
    provider = _provider(gupshup.url)
    try:
        provider.send(PHONE, OTP_TEXT, TAG)
    except TransportError as exc:
        logging.getLogger("test").warning("failed: %s %r", exc, exc)
    logged = caplog.text + repr([r.args for r in caplog.records])
    assert GUPSHUP_PASSWORD not in logged and GUPSHUP_PASSWORD not in repr(provider)


# ---- delivery reports ---------------------------------------------------------------------

@pytest.fixture
def gupshup_client(settings, gupshup, db, redis_client):
    from gateway import create_app

    return create_app(dlt_settings(settings, [gupshup_config(gupshup.url)])).test_client()


def _sent(db, provider_id: str = "3562707498794989059-1", key: str = "g1") -> int:
    with db.write() as session:
        message = outbox.record_message(session, phone=PHONE, kind="otp", body=OTP_TEXT,
                                        budget=None, lang="en", dedupe_key=key)
        message.status, message.provider, message.provider_message_id = \
            "sent", "gupshup", provider_id
        session.add(SendAttempt(message_id=message.id, provider="gupshup", outcome="accepted",
                                provider_message_id=provider_id))
        return message.id


def _status(db, message_id: int) -> tuple[str, str]:
    with db.read() as session:
        message = session.get(Message, message_id)
        return message.status, message.status_reason


def _report(client, params: dict, method: str = "get", secret: str | None = GUPSHUP_SECRET):
    query = {"secret": secret} if secret is not None else {}
    if method == "get":
        return client.get("/sms/gupshup/delivery", query_string={**query, **params})
    return client.post("/sms/gupshup/delivery", query_string=query, data=params)


@pytest.mark.parametrize("method", ["get", "post"])
def test_a_success_report_marks_the_message_delivered(gupshup_client, db, method):
    mid = _sent(db)
    answer = _report(gupshup_client, FakeGupshup.report("3562707498794989059-1"), method)
    assert answer.status_code == 200 and answer.get_json() == {"ok": True, "known": True}
    assert _status(db, mid)[0] == "delivered"


def test_a_fail_report_keeps_the_cause_and_leaves_it_to_another_provider(gupshup_client, db):
    mid = _sent(db)
    _report(gupshup_client, FakeGupshup.report("3562707498794989059-1", "FAIL",
                                               "ABSENT_SUBSCRIBER", "006"))
    status, reason = _status(db, mid)
    assert status == "undelivered" and "006 ABSENT_SUBSCRIBER" in reason


VERDICTS = [  # status, cause, errCode, verdict
    ("SUCCESS", "SUCCESS", "000", "delivered"),
    ("UNKNOWN", "", "", "pending"),
    ("FAIL", "ABSENT_SUBSCRIBER", "001", "fail_over"),
    ("FAILURE", "ABSENT_SUBSCRIBER", "001", "fail_over"),  # the documentation's spelling
    ("FAIL", "CALL_BARRED", "002", "final"),
    ("FAIL", "UNKNOWN_SUBSCRIBER", "003", "final"),
    ("FAIL", "SERVICE_DOWN", "004", "fail_over"),
    ("FAIL", "SYSTEM_FAILURE", "005", "fail_over"),
    ("FAIL", "DND_FAIL", "006", "final"),
    ("FAIL", "BLOCKED", "007", "final"),
    ("FAIL", "DND_TIMEOUT", "008", "retry_same"),
    ("FAIL", "OUTSIDE_WORKING_HOURS", "009", "retry_same"),
    ("FAIL", "", "003", "final"),  # no cause: its errCode
    ("FAIL", "SOMETHING_NEW", "", "fail_over"),  # unknown reason: the status's rule
]


@pytest.mark.parametrize(("status", "cause", "code", "verdict"), VERDICTS,
                         ids=[f"{s}-{c}-{e}" for s, c, e, _ in VERDICTS])
def test_each_documented_status_and_cause_has_its_verdict(status, cause, code, verdict):
    assert classify_gupshup(status, cause, code).verdict.value == verdict


def test_every_gupshup_rule_says_why_and_every_code_names_a_cause():
    for rule in [*GUPSHUP_STATUS.values(), *GUPSHUP_REASON.values()]:
        assert 0 < len(rule.why) <= 90 and "\n" not in rule.why
    assert set(GUPSHUP_CAUSE_OF_CODE.values()) == set(GUPSHUP_REASON)


def test_a_report_for_a_number_that_does_not_exist_fails_for_good(gupshup_client, db):
    mid = _sent(db)
    answer = _report(gupshup_client, FakeGupshup.report("3562707498794989059-1", "FAILURE",
                                                        "UNKNOWN_SUBSCRIBER", "003"))
    status, reason = _status(db, mid)
    assert answer.status_code == 200 and status == "failed" and "UNKNOWN_SUBSCRIBER" in reason


def test_a_replayed_fail_never_undoes_delivered(gupshup_client, db):
    mid = _sent(db)
    _report(gupshup_client, FakeGupshup.report("3562707498794989059-1"))
    again = _report(gupshup_client, FakeGupshup.report("3562707498794989059-1", "FAIL"))
    assert again.status_code == 200 and _status(db, mid)[0] == "delivered"


@pytest.mark.parametrize("status", ["UNKNOWN", "SUBMITTED", "weird"])
def test_an_unknown_or_pending_status_changes_nothing(gupshup_client, db, status):
    mid = _sent(db)
    answer = _report(gupshup_client, FakeGupshup.report("3562707498794989059-1", status))
    assert answer.status_code == 200 and _status(db, mid)[0] == "sent"


def test_a_report_for_a_message_we_never_sent_gets_200(gupshup_client, db):
    answer = _report(gupshup_client, FakeGupshup.report("999-never"))
    assert answer.status_code == 200 and answer.get_json()["known"] is False


@pytest.mark.parametrize("secret", [None, "", "wrong"])
def test_a_report_without_the_secret_is_refused(gupshup_client, db, secret):
    mid = _sent(db)
    answer = _report(gupshup_client, FakeGupshup.report("3562707498794989059-1"),
                     secret=secret)
    assert answer.status_code == 403 and _status(db, mid)[0] == "sent"


@pytest.mark.parametrize(("params", "field"), [
    ({"status": "SUCCESS"}, "externalId"),
    ({"externalId": "a b", "status": "SUCCESS"}, "externalId"),
    ({"externalId": "3562707498794989059-1"}, "status"),
    ({"externalId": "3562707498794989059-1", "status": "SUCCESS", "cause": "x" * 500},
     "cause"),
])
def test_a_malformed_report_gets_400_naming_the_field(gupshup_client, params, field):
    answer = _report(gupshup_client, params)
    assert answer.status_code == 400 and answer.get_json()["field"] == field


def test_a_gupshup_provider_without_its_webhook_secret_refuses_to_start(settings, monkeypatch):
    monkeypatch.delenv("GUPSHUP_WEBHOOK_SECRET", raising=False)
    configured = dlt_settings(settings, [gupshup_config("http://127.0.0.1:9")])
    with pytest.raises(ConfigError, match=r"sms\.providers\[gupshup\]\.webhook_secret_env"):
        require_webhook_security(configured, env={})
