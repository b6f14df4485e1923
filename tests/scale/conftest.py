"""Scale-out fixtures: two real redis-servers (sessions, queues), a password-protected one,
worker processes started the way a deployment starts them (`vaxgate worker`), and the fake
SMS provider of tests/sms."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
import yaml

from gateway.config import PROJECT_DIR
from gateway.infra.embedded_redis import EmbeddedRedis, redis_server_binary
from tests.conftest import UssdPhone
from tests.sms.conftest import fake, fake_server, provider_env  # noqa: F401 - fixtures
from tests.sms.support import provider_config
from tests.ussd_menus.test_ussd_journeys import ENGLISH, REFERENCE, book_first_choices, register

PASSWORD = "s3cret-pass"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def two_servers(tmp_path_factory) -> Iterator[tuple[str, str]]:
    """(session_url, queue_url): two separate redis-servers."""
    servers = [EmbeddedRedis(tmp_path_factory.mktemp(role)).start()
               for role in ("sessions", "queues")]
    yield servers[0].url, servers[1].url
    for server in servers:
        server.stop()


@pytest.fixture
def two_redis(two_servers) -> tuple[redis.Redis, redis.Redis]:
    """Clients of both servers, emptied."""
    clients = tuple(redis.Redis.from_url(url) for url in two_servers)
    for client in clients:
        client.flushdb()
    return clients  # type: ignore[return-value]


@pytest.fixture(scope="module")
def secured_server(tmp_path_factory) -> Iterator[EmbeddedRedis]:
    """A redis-server on 127.0.0.1 with ``requirepass``."""
    server = EmbeddedRedis(tmp_path_factory.mktemp("secured"), port=free_port(),
                           password=PASSWORD).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def sentinel_url(secured_server, tmp_path_factory) -> Iterator[str]:
    """A real Sentinel (redis-server --sentinel) watching ``secured_server`` as "vaxgate";
    the ``redis+sentinel://`` URL of that master."""
    folder, port = tmp_path_factory.mktemp("sentinel"), free_port()
    conf = folder / "sentinel.conf"
    conf.write_text(f"port {port}\nbind 127.0.0.1\ndir {folder}\n"
                    f"sentinel monitor vaxgate 127.0.0.1 {secured_server.port} 1\n"
                    f"sentinel auth-pass vaxgate {PASSWORD}\n")
    process = subprocess.Popen([redis_server_binary(), str(conf), "--sentinel"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait_for_master(port)
        yield f"redis+sentinel://:{PASSWORD}@127.0.0.1:{port}/vaxgate/0"
    finally:
        process.terminate()
        process.wait(timeout=10)


def _wait_for_master(port: int, timeout: float = 10.0) -> None:
    sentinel, deadline = redis.Redis(port=port), time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if sentinel.sentinel_get_master_addr_by_name("vaxgate"):
                return
        except redis.ConnectionError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"Sentinel on port {port} did not answer within {timeout}s")


def scale_settings(settings, fake_url: str, **overrides):
    """The test settings with both real-SDK providers on the fake server, plus overrides
    (a dict for a section changes only the keys it names)."""
    data = settings.model_dump()
    data["sms"] = {**data["sms"], "providers": provider_config(fake_url)}
    for key, value in overrides.items():
        data[key] = {**data[key], **value} if isinstance(value, dict) else value
    return type(settings).model_validate(data)


def worker_env(settings, tmp_path: Path, **redis_env: str) -> dict[str, str]:
    """The environment of a `vaxgate worker` process on ``settings`` (written as YAML)."""
    config = tmp_path / "worker-config.yaml"
    data = settings.model_dump(mode="json", exclude={"database_url", "redis_url",
                                                     "session_redis_url", "queue_redis_url",
                                                     "secret_key"})
    config.write_text(yaml.safe_dump(data))
    env = {key: value for key, value in os.environ.items() if "REDIS_URL" not in key}
    return {**env, "VAXGATE_CONFIG": str(config), "VAXGATE_DATABASE_URL": settings.database_url,
            "VAXGATE_SECRET_KEY": settings.secret_key, **redis_env}


def vaxgate(*args: str, env: dict[str, str], timeout: float = 60) -> subprocess.CompletedProcess:
    """Run the `vaxgate` command line to completion."""
    return subprocess.run([sys.executable, "-m", "gateway.cli", *args], env=env, cwd=PROJECT_DIR,
                          capture_output=True, text=True, timeout=timeout)


def start_worker(env: dict[str, str], log: Path, *args: str) -> subprocess.Popen:
    """Start `vaxgate worker` in the background, its output into ``log``."""
    with log.open("w") as out:
        return subprocess.Popen([sys.executable, "-m", "gateway.cli", "worker", *args],
                                env=env, cwd=PROJECT_DIR, stdout=out, stderr=subprocess.STDOUT)


def book_on_ussd(client, phone_number: str) -> str:
    """A new phone registers one person and books the first choices; the reference code."""
    phone = UssdPhone(client, phone_number)
    phone.dial()
    phone.send(ENGLISH)
    register(phone)
    phone.send("00")
    return REFERENCE.search(book_first_choices(phone)).group(1)
