"""Fuzz fixtures: hypothesis settings by profile, the app with every webhook reachable, and
a log watch that turns any logged error (a caught-and-logged exception) into a failure.

Profiles (``VAXGATE_FUZZ_PROFILE``): ``ci`` (default; the whole folder in well under 90 s
on a 2-core machine) and ``long`` (20 times the examples, for a dedicated fuzzing run).
``ci`` draws the same cases every run (hypothesis' ``derandomize``): the suite gates every
landing, and a fresh random draw that finds an old bug would fail an unrelated change
(it did, twice, in session 3's CI). ``long`` draws fresh cases each run and shrinks what
fails: run it on its own (``VAXGATE_FUZZ_PROFILE=long .venv/bin/python -m pytest
tests/fuzz``), fix what it finds, and keep each falsifying case as an explicit ``@example``
next to its test. A failure prints the example and a ``@reproduce_failure`` blob.

Fixtures are function-scoped and used once per test: each example resets what it needs
(fresh session ids, counts taken before and after), so the function-scoped-fixture health
check is suppressed on purpose.
"""
from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterator

import pytest
from argon2 import PasswordHasher
from hypothesis import HealthCheck, Phase, settings

from gateway import create_app
from gateway.admin import auth as auth_module
from gateway.admin.auth import create_user

PROFILE = os.environ.get("VAXGATE_FUZZ_PROFILE", "ci")
SCALE = {"ci": 1, "long": 20}

for _name in SCALE:
    settings.register_profile(
        f"vaxgate-fuzz-{_name}", deadline=None, derandomize=_name == "ci", print_blob=True,
        database=None if _name == "ci" else settings.default.database,
        # ci: no shrinking, which can outlast the test timeout on slow examples; the failing
        # example and its @reproduce_failure blob are printed as found (shrink them locally
        # with VAXGATE_FUZZ_PROFILE=long)
        phases=[p for p in Phase if _name != "ci" or p is not Phase.shrink],
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


def fuzz_settings(examples: int) -> settings:
    """Settings for one target: ``examples`` generated cases in the ci profile."""
    if PROFILE not in SCALE:
        raise pytest.UsageError(f"VAXGATE_FUZZ_PROFILE={PROFILE!r}: use one of {list(SCALE)}")
    return settings(settings.get_profile(f"vaxgate-fuzz-{PROFILE}"),
                    max_examples=examples * SCALE[PROFILE])


class ErrorLog(logging.Handler):
    """Collects ERROR records (``log.exception`` included) from every logger."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def check(self) -> None:
        """Fail with the first logged error and its traceback; forget them all."""
        records, self.records = self.records, []
        if records:
            first = records[0]
            trace = self.format(first) if first.exc_info else first.getMessage()
            raise AssertionError(f"{len(records)} error(s) logged; the first:\n{trace}")


@pytest.fixture
def error_log() -> Iterator[ErrorLog]:
    handler = ErrorLog()
    handler.setFormatter(logging.Formatter("%(name)s: %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    yield handler
    root.removeHandler(handler)


SECRETS = {"FUZZ_TWILIO_TOKEN": "fuzz-twilio-token", "FUZZ_AT_SMS_SECRET": "fuzz-at-sms-secret",
           "FUZZ_VOICE_TOKEN": "fuzz-voice-token", "FUZZ_AT_VOICE_SECRET": "fuzz-voice-secret",
           "FUZZ_ACCOUNT": "AC" + "1" * 32, "FUZZ_AT_KEY": "fuzz-at-key",
           "FUZZ_USSD_SECRET": "fuzz-ussd-secret"}


def _app(settings):
    app = create_app(settings)
    app.config["PROPAGATE_EXCEPTIONS"] = True
    return app


@pytest.fixture
def sandbox_client(settings, db, redis_client):
    """The sandbox deployment (no real provider): webhooks answer unsigned requests, as the
    phone simulator sends them, so every generated request reaches the parsers."""
    return _app(settings).test_client()


@pytest.fixture
def provider_settings(settings, monkeypatch):
    """A real deployment: Twilio and Africa's Talking for SMS and voice, every webhook
    secret set (``create_app`` refuses to start otherwise), USSD callbacks need ?secret=."""
    for var, value in SECRETS.items():
        monkeypatch.setenv(var, value)
    data = settings.model_dump()
    data["sms"]["providers"] = [
        {"name": "twilio", "kind": "twilio", "base_url": "http://127.0.0.1:9",
         "credentials_env": {"account_sid": "FUZZ_ACCOUNT", "auth_token": "FUZZ_TWILIO_TOKEN"}},
        {"name": "africastalking", "kind": "africastalking", "base_url": "http://127.0.0.1:9",
         "webhook_secret_env": "FUZZ_AT_SMS_SECRET",
         "credentials_env": {"username": "FUZZ_ACCOUNT", "api_key": "FUZZ_AT_KEY"}}]
    data["ussd"]["secret_env"] = "FUZZ_USSD_SECRET"
    data["ivr"].update(providers=["twilio", "africastalking"],
                       twilio_auth_token_env="FUZZ_VOICE_TOKEN",
                       africastalking_secret_env="FUZZ_AT_VOICE_SECRET")
    return type(settings).model_validate(data)


@pytest.fixture
def provider_client(provider_settings, db, redis_client):
    return _app(provider_settings).test_client()


class Console:
    """The sandbox app's admin console, signed in as an admin (CSRF token at hand)."""

    PASSWORD = "fuzz horse battery"

    def __init__(self, client):
        self.client = client
        self.client.post("/admin/login", data={"username": "fuzzadmin", "password":
                                               self.PASSWORD, "csrf_token": self.csrf()})
        self.token = self.csrf("/admin/")

    def csrf(self, path: str = "/admin/login") -> str:
        page = self.client.get(path).get_data(as_text=True)
        return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)

    def post(self, path: str, data: dict, **kwargs):
        return self.client.post(path, data={**data, "csrf_token": self.token}, **kwargs)


@pytest.fixture
def console(sandbox_client, db, monkeypatch) -> Console:
    monkeypatch.setattr(auth_module, "HASHER", PasswordHasher(time_cost=1, memory_cost=1024,
                                                              parallelism=1))
    with db.write() as session:
        create_user(session, "fuzzadmin", Console.PASSWORD, "admin")
    return Console(sandbox_client)
