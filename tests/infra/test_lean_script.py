"""``LeanScript`` sends what redis-py would send and recovers where redis-py recovers: a Redis
that forgot its scripts, a connection the server closed. On a cluster the same holds through
the failover test of tests/scale/test_redis_cluster.py."""
from __future__ import annotations

import pytest
import redis
from redis.connection import Connection

from gateway.infra.lean_script import LeanScript

ECHO = "return {KEYS[1], ARGV[1], ARGV[2], ARGV[3], tostring(#ARGV)}"


def test_a_call_is_packed_byte_for_byte_as_redis_py_packs_it(redis_client):
    script = LeanScript(redis_client, ECHO)
    keys, args = ["vaxgate:{+919800000001}:k", "k2"], ["भाषा", 42, 1.5, b"\x00raw"]
    redis_py = b"".join(Connection().pack_command("EVALSHA", script.script.sha, len(keys),
                                                  *keys, *args))
    assert script._pack(keys, args) == redis_py


def test_the_reply_is_the_scripts_own(redis_client):
    script = LeanScript(redis_client, ECHO)
    assert script(keys=["k"], args=["a", 7, "भाषा"]) == [b"k", b"a", b"7", "भाषा".encode(),
                                                       b"3"]


def test_a_redis_that_forgot_its_scripts_gets_the_script_again(redis_client):
    script = LeanScript(redis_client, ECHO)
    script(keys=["k"], args=["a", "b", "c"])
    redis_client.script_flush()
    assert script(keys=["k"], args=["x", "y", "z"])[1] == b"x"


def test_a_connection_the_server_closed_is_made_again(redis_client, redis_url):
    script = LeanScript(redis_client, ECHO)
    script(keys=["k"], args=["a", "b", "c"])  # a pooled connection now exists
    killed = redis.Redis.from_url(redis_url).client_kill_filter(_type="normal", skipme=True)
    assert killed >= 1  # the script's pooled connection among them
    assert script(keys=["k"], args=["x", "y", "z"])[1] == b"x"


def test_an_argument_redis_py_would_refuse_is_refused(redis_client):
    with pytest.raises(TypeError):
        LeanScript(redis_client, ECHO)(keys=["k"], args=[True, None, "c"])
