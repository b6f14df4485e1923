"""Redis Cluster URLs for sessions: a malformed one names its setting, an unreachable
cluster is reported as a Redis problem (what `vaxgate` prints at start), not a traceback."""
from __future__ import annotations

import socket

import pytest

from gateway.config import ConfigError
from gateway.infra.redis_clients import connect_role, redis_problems
from gateway.infra.redis_urls import is_cluster_url


def test_only_redis_cluster_urls_name_a_cluster():
    assert is_cluster_url("redis+cluster://127.0.0.1:7001,127.0.0.2:7002")
    assert not is_cluster_url("redis://127.0.0.1:6379/0")
    assert not is_cluster_url("redis+sentinel://127.0.0.1:26379/vaxgate")


@pytest.mark.parametrize("url", ["redis+cluster://", "redis+cluster://:7001",
                                 "redis+cluster://127.0.0.1:7001/3"])
def test_a_malformed_cluster_url_is_a_config_error_naming_the_setting(settings, url):
    with pytest.raises(ConfigError, match="session_redis_url: write a Redis Cluster URL"):
        connect_role(settings.model_copy(update={"session_redis_url": url}), "session")


def test_an_unreachable_cluster_is_a_redis_problem_naming_the_setting(settings):
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"redis+cluster://:secret@127.0.0.1:{port}"
    problems = redis_problems(settings.model_copy(update={"session_redis_url": url}))
    assert [(p.setting, p.error) for p in problems] == [
        ("session_redis_url", "RedisClusterUnreachableError")]
    assert "secret" not in str(problems[0])
