"""SMS fixtures: a fake provider server, settings that point at it, the app on them."""
from __future__ import annotations

from collections.abc import Iterator

import pytest

from workers import jobs
from workers.worker import build_context

from .fake_provider import FakeProvider
from .support import API_KEY, AT_KEY, AT_SECRET, TWILIO_SID, TWILIO_TOKEN, provider_config


@pytest.fixture(scope="session")
def fake_server() -> Iterator[FakeProvider]:
    server = FakeProvider().start()
    yield server
    server.stop()


@pytest.fixture
def fake(fake_server) -> FakeProvider:
    fake_server.reset()
    return fake_server


@pytest.fixture
def provider_env(monkeypatch) -> None:
    for var, value in {"TWILIO_ACCOUNT_SID": TWILIO_SID, "TWILIO_AUTH_TOKEN": TWILIO_TOKEN,
                       "AT_USERNAME": "vaxgate", "AT_API_KEY": AT_KEY,
                       "AT_WEBHOOK_SECRET": AT_SECRET, "VAXGATE_API_KEYS": API_KEY}.items():
        monkeypatch.setenv(var, value)


@pytest.fixture
def sms_settings(settings, fake, provider_env):
    """App settings with two real-SDK providers on the fake server and fast retries."""
    sms = settings.sms.model_copy(update={"providers": [], "retry_intervals_seconds": [1]})
    data = settings.model_dump()
    data["sms"] = {**sms.model_dump(), "providers": provider_config(fake.url),
                   "breaker_fail_max": 3}
    return type(settings).model_validate(data)


@pytest.fixture
def ctx(sms_settings, db, redis_client):
    context = build_context(sms_settings, redis_client)
    yield context
    jobs.install(None)


@pytest.fixture
def sms_app(sms_settings, db, redis_client):
    from gateway import create_app

    return create_app(sms_settings)


@pytest.fixture
def sms_client(sms_app):
    return sms_app.test_client()


@pytest.fixture
def patient_ctx(sms_settings, db, redis_client):
    """Like ``ctx``, with 5 s provider timeouts: a busy test machine answering late must not
    turn into a failover (the first provider got it too: counted twice at the fake)."""
    from .support import with_sms

    providers = [{**p, "timeout_seconds": 5.0}
                 for p in sms_settings.model_dump()["sms"]["providers"]]
    context = build_context(with_sms(sms_settings, providers=providers), redis_client)
    yield context
    jobs.install(None)
