"""Sessions and queues on two redis-servers: what may expire on one, RQ and cron on the other;
a USSD booking, an OTP and their SMS still go end to end through a real `vaxgate worker`."""
from __future__ import annotations

import re

import pytest

from gateway import create_app
from gateway.cli.launcher import Launcher
from tests.sms.support import API_KEY

from .conftest import book_on_ussd, scale_settings, vaxgate, worker_env

AUTH = {"X-API-Key": API_KEY}
PHONE = "+919812345601"
QUEUE_SIDE = (b"rq:", b"vaxgate:cron:")  # RQ's own keys and the cron slot locks
PROBE = b"vaxgate:readyz"  # /readyz writes it on each Redis to see that it takes writes


@pytest.mark.usefixtures("demo_centers", "provider_env")
@pytest.mark.timeout(90)
def test_sessions_and_queues_each_stay_on_their_own_redis(settings, db, two_servers,
                                                          two_redis, fake, tmp_path):
    session_url, queue_url = two_servers
    sessions, queues = two_redis
    split = scale_settings(settings, fake.url, redis_url="", session_redis_url=session_url,
                           queue_redis_url=queue_url)
    client = create_app(split).test_client()
    assert client.get("/readyz").json["checks"] == {"database": "ok", "redis": "ok",
                                                    "queue_redis": "ok"}
    reference = book_on_ussd(client, PHONE)
    txn = client.post("/api/v1/otp", json={"phone": PHONE}, headers=AUTH).json["transaction_id"]

    done = vaxgate("worker", "--burst", env=worker_env(
        split, tmp_path, VAXGATE_SESSION_REDIS_URL=session_url,
        VAXGATE_QUEUE_REDIS_URL=queue_url))

    assert done.returncode == 0, done.stderr[-2000:]
    bodies = [r["form"]["Body"] for r in fake.twilio.received]
    assert len(bodies) == 2 and any(reference in body for body in bodies)
    code = next(m[1] for body in bodies if (m := re.search(r"\b(\d{6})\b", body)))
    verified = client.post("/api/v1/otp/verify", json={"transaction_id": txn, "code": code},
                           headers=AUTH)
    assert (verified.status_code, verified.json) == (200, {"verified": True})

    session_keys, queue_keys = ([k for k in r.keys("*") if k != PROBE]
                                for r in (sessions, queues))
    assert any(k.startswith(b"vaxgate:ussd:") for k in session_keys)
    assert any(k.startswith(b"rq:") for k in queue_keys)
    assert not [k for k in session_keys if k.startswith(QUEUE_SIDE)]
    assert not [k for k in queue_keys if not k.startswith(QUEUE_SIDE)]


def test_vaxgate_run_starts_one_embedded_server_for_both_roles(settings, tmp_path,
                                                               monkeypatch):
    monkeypatch.setattr("gateway.cli.launcher.VAR_DIR", tmp_path)
    launcher = Launcher(settings.model_copy(update={"redis_url": ""}), host="127.0.0.1",
                        port=0, web_workers=1, sms_workers=1)
    try:
        url = launcher._redis_url()
        assert launcher.redis is not None and url == launcher.redis.url
        assert url.startswith("unix://") and str(tmp_path) in url
    finally:
        if launcher.redis:
            launcher.redis.stop()


def test_vaxgate_run_starts_no_server_when_both_roles_have_a_url(settings, two_servers,
                                                                 tmp_path, monkeypatch):
    monkeypatch.setattr("gateway.cli.launcher.VAR_DIR", tmp_path)
    session_url, queue_url = two_servers
    launcher = Launcher(settings.model_copy(update={
        "redis_url": "", "session_redis_url": session_url, "queue_redis_url": queue_url}),
        host="127.0.0.1", port=0, web_workers=1, sms_workers=1)
    assert launcher._redis_url() == ""
    assert launcher.redis is None


@pytest.mark.parametrize("env, session, queue", [
    ({"VAXGATE_REDIS_URL": "redis://one/0"}, "redis://one/0", "redis://one/0"),
    ({"VAXGATE_REDIS_URL": "redis://one/0", "VAXGATE_SESSION_REDIS_URL": "redis://s/0"},
     "redis://s/0", "redis://one/0"),
    ({"VAXGATE_REDIS_URL": "redis://one/0", "VAXGATE_QUEUE_REDIS_URL": "redis://q/1"},
     "redis://one/0", "redis://q/1"),
    ({"VAXGATE_SESSION_REDIS_URL": "redis://s/0", "VAXGATE_QUEUE_REDIS_URL": "redis://q/1"},
     "redis://s/0", "redis://q/1"),
])
def test_each_role_takes_its_own_url_or_falls_back_to_redis_url(env, session, queue):
    from gateway.config import load_settings

    loaded = load_settings(env=env)
    assert (loaded.redis_url_for("session"), loaded.redis_url_for("queue")) == (session, queue)
