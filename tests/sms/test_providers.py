"""Each provider over real HTTP against the fake provider server: Twilio through its SDK,
Africa's Talking through its documented HTTP API."""
from __future__ import annotations

import logging

import pytest

from gateway.config import SmsProviderSettings
from gateway.sms.errors import ProviderConfigError, TransportError
from gateway.sms.providers import KINDS, build_providers, sandbox_inbox
from gateway.sms.providers.sandbox import SandboxProvider

from .support import AT_KEY, PHONE, TWILIO_SID, TWILIO_TOKEN, provider_config

CASES = [  # mode, provider, expected (retryable, code) or None for success
    ("ok", "twilio", None),
    ("4xx", "twilio", (True, "twilio_21606")),  # our sender, not the recipient: fail over
    ("permanent", "twilio", (False, "twilio_21211")),
    ("429", "twilio", (True, "http_429")),
    ("5xx", "twilio", (True, "http_503")),
    ("hang", "twilio", (True, "timeout")),
    ("malformed", "twilio", (True, "malformed")),
    ("ok", "africastalking", None),
    ("4xx", "africastalking", (False, "http_400")),
    ("permanent", "africastalking", (False, "at_403")),
    ("429", "africastalking", (True, "http_429")),
    ("5xx", "africastalking", (True, "http_503")),
    ("hang", "africastalking", (True, "timeout")),
    ("malformed", "africastalking", (True, "malformed")),
]


def _provider(fake, name: str, timeout: float = 0.5):
    configs = [SmsProviderSettings(**c) for c in provider_config(fake.url, timeout)]
    config = next(c for c in configs if c.name == name)
    from gateway.sms.secrets import read_secrets

    return KINDS[config.kind](config, read_secrets(config.credentials_env))


@pytest.mark.parametrize(("mode", "name", "expected"), CASES,
                         ids=[f"{n}-{m}" for m, n, _ in CASES])
def test_provider_classifies_each_answer(fake, provider_env, mode, name, expected):
    behaviour = getattr(fake, name)
    behaviour.mode, behaviour.hang_seconds = mode, 1.5
    provider = _provider(fake, name)
    if expected is None:
        assert provider.send(PHONE, "hello").startswith(("SM", "ATXid_"))
    else:
        with pytest.raises(TransportError) as caught:
            provider.send(PHONE, "hello")
        assert (caught.value.retryable, caught.value.code) == expected
    assert behaviour.received[0]["form"].get("To", behaviour.received[0]["form"].get("to")) \
        == PHONE


def test_twilio_sends_from_number_and_basic_auth(fake, provider_env):
    _provider(fake, "twilio").send(PHONE, "hello")
    received = fake.twilio.received[0]
    assert received["form"] == {"To": PHONE, "Body": "hello", "From": "+15005550006"}
    assert received["headers"]["Authorization"].startswith("Basic ")


def test_africastalking_sends_username_and_api_key_header(fake, provider_env):
    _provider(fake, "africastalking").send(PHONE, "hello")
    received = fake.africastalking.received[0]
    assert received["form"]["username"] == "vaxgate"
    assert received["form"]["from"] == "VAXGATE"
    assert received["headers"]["apiKey"] == AT_KEY


@pytest.mark.parametrize("mode", ["ok", "5xx", "hang", "malformed", "permanent"])
def test_credentials_never_appear_in_logs(fake, provider_env, caplog, mode):
    caplog.set_level(logging.DEBUG)
    for name in ("twilio", "africastalking"):
        behaviour = getattr(fake, name)
        behaviour.mode, behaviour.hang_seconds = mode, 1.0
        try:
            _provider(fake, name).send(PHONE, "hello")
        except TransportError as exc:
            logging.getLogger("test").warning("failed: %s %r", exc, exc)
    logged = caplog.text + repr([r.args for r in caplog.records])
    for secret in (TWILIO_TOKEN, AT_KEY):
        assert secret not in logged
    assert TWILIO_SID[:10] not in repr(_provider(fake, "twilio"))


def test_missing_credential_names_the_variable(fake, monkeypatch, settings):
    monkeypatch.delenv("TWILIO_AUTH_TOKEN", raising=False)
    monkeypatch.delenv("TWILIO_AUTH_TOKEN_FILE", raising=False)
    monkeypatch.setenv("TWILIO_ACCOUNT_SID", TWILIO_SID)
    data = settings.model_dump()
    data["sms"]["providers"] = provider_config(fake.url)[:1]
    with pytest.raises(ProviderConfigError, match="TWILIO_AUTH_TOKEN"):
        build_providers(type(settings).model_validate(data))


def test_credentials_are_read_from_a_file(fake, monkeypatch, tmp_path, settings):
    token_file = tmp_path / "token"
    token_file.write_text(TWILIO_TOKEN + "\n")
    monkeypatch.setenv("TWILIO_ACCOUNT_SID", TWILIO_SID)
    monkeypatch.delenv("TWILIO_AUTH_TOKEN", raising=False)
    monkeypatch.setenv("TWILIO_AUTH_TOKEN_FILE", str(token_file))
    data = settings.model_dump()
    data["sms"]["providers"] = provider_config(fake.url)[:1]
    providers = build_providers(type(settings).model_validate(data))
    assert providers["twilio"].credentials["auth_token"] == TWILIO_TOKEN


def test_unknown_provider_kind_is_named(settings):
    data = settings.model_dump()
    data["sms"]["providers"] = [{"name": "x", "kind": "pigeon"}]
    with pytest.raises(ProviderConfigError, match="pigeon"):
        build_providers(type(settings).model_validate(data))


def test_sandbox_records_the_message_for_the_simulator_inbox(db):
    provider = SandboxProvider(SmsProviderSettings(name="sandbox", kind="sandbox"), {}, db=db)
    first = provider.send(PHONE, "one")
    provider.send(PHONE, "two")
    provider.send("+919800000000", "other")
    with db.read() as session:
        inbox = sandbox_inbox(session, PHONE)
    assert [m["body"] for m in inbox] == ["two", "one"]
    assert inbox[1]["id"] == first
