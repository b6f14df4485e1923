"""Redis by URL with a password (``requirepass``), as production runs it: a journey and a
worker burst work; a wrong password is one clear line naming the setting, never a traceback
and never the password."""
from __future__ import annotations

import pytest

from gateway import create_app

from .conftest import PASSWORD, book_on_ussd, scale_settings, vaxgate, worker_env

WRONG = "not-the-password"


def _wrong(url: str) -> str:
    return url.replace(PASSWORD, WRONG)


@pytest.mark.usefixtures("demo_centers", "provider_env")
@pytest.mark.timeout(90)
def test_a_journey_and_a_worker_burst_work_on_a_redis_with_a_password(settings, db, fake,
                                                                       secured_server, tmp_path):
    url = secured_server.url
    assert url.startswith(f"redis://:{PASSWORD}@127.0.0.1:")
    secured = scale_settings(settings, fake.url, redis_url=url)
    client = create_app(secured).test_client()
    assert client.get("/readyz").status_code == 200
    reference = book_on_ussd(client, "+919812345602")

    done = vaxgate("worker", "--burst", env=worker_env(secured, tmp_path, VAXGATE_REDIS_URL=url))

    assert done.returncode == 0, done.stderr[-2000:]
    [sms] = fake.twilio.received
    assert reference in sms["form"]["Body"]


@pytest.mark.parametrize("command, variable", [
    (("worker", "--burst"), "VAXGATE_REDIS_URL"),
    (("cron",), "VAXGATE_REDIS_URL"),
    (("worker", "--burst"), "VAXGATE_QUEUE_REDIS_URL"),
    (("run", "--port", "0"), "VAXGATE_REDIS_URL"),
])
@pytest.mark.timeout(60)
def test_a_wrong_password_stops_the_command_with_the_setting_named(settings, secured_server,
                                                                  tmp_path, command, variable):
    env = worker_env(settings, tmp_path, VAXGATE_REDIS_URL=secured_server.url,
                     VAXGATE_VAR_DIR=str(tmp_path))
    env[variable] = _wrong(secured_server.url)

    done = vaxgate(*command, env=env)

    setting = variable.removeprefix("VAXGATE_").lower()
    assert done.returncode == 1
    assert f"Redis does not answer: {setting} (redis://:***@127.0.0.1:" in done.stderr
    assert "AuthenticationError" in done.stderr
    assert "Traceback" not in done.stderr + done.stdout
    assert WRONG not in done.stderr + done.stdout


def test_readyz_names_the_setting_of_a_redis_refusing_the_password(settings, db,
                                                                   secured_server):
    app = create_app(settings.model_copy(update={
        "redis_url": secured_server.url, "session_redis_url": _wrong(secured_server.url)}))

    response = app.test_client().get("/readyz")

    assert response.status_code == 503
    assert response.json["checks"] == {"database": "ok",
                                       "redis": "error: AuthenticationError (session_redis_url)",
                                       "queue_redis": "ok"}
