"""Lua scripts called over a pooled connection directly: the scripts every USSD step runs.

redis-py's command path (``Script.__call__`` -> ``evalsha`` -> ``execute_command``: the
retry wrapper, timing hooks, generic packing of every argument; on a cluster also the
routing and its bookkeeping) costs about a third of a script call's CPU here (25.9 against
16.2 µs a call with one Redis, ``bench/redis_call.py``), and a step makes two to four calls.
:class:`LeanScript` packs ``EVALSHA`` behind a prefix built once, sends it on a connection
of the pool that serves the keys (the client's own; on a cluster, the pool of the master
the client last learned for the first key's slot) and reads the reply with that pool's
parser. Everything unusual is redis-py's: a ``NOSCRIPT`` reply (a Redis restarted
or flushed) and, on a cluster, a redirection (``MOVED``/``ASK``), a slot not yet known or a
master that cannot be reached go through its ``Script``, which loads the script, follows
the cluster's changes and retries as it always does. A timeout on a cluster is raised, not
retried here: the script may have run, and redis-py's own path would run it again up to
``CLUSTER_RETRIES`` times more. With one Redis errors are retried under the connection's own
retry policy, as ``execute_command`` does.
"""
from __future__ import annotations

from collections.abc import Sequence

import redis
from redis.cluster import RedisCluster
from redis.exceptions import (
    AskError,
    ClusterError,
    ConnectionError,
    NoScriptError,
    RedisClusterException,
    TimeoutError,
    TryAgainError,
)

Arg = str | bytes | int | float
# On a cluster: what redis-py's own cluster path recovers from, the script not having run.
_CLUSTER_DETOURS = (AskError, TryAgainError, ClusterError, ConnectionError)


class LeanScript:
    """A registered Lua script; call it as ``script(keys=[...], args=[...])``. All keys of a
    call must share one hash slot (as every script does on a cluster)."""

    def __init__(self, client: redis.Redis | RedisCluster, source: str):
        self.script = client.register_script(source)  # the detour, and the SHA
        self.client = client
        sha = self.script.sha.encode()
        self._prefix = b"$7\r\nEVALSHA\r\n$%d\r\n%s\r\n" % (len(sha), sha)

    def __call__(self, keys: Sequence[str], args: Sequence[Arg]):
        if isinstance(self.client, RedisCluster):
            return self._on_cluster(keys, args)
        pool = self.client.connection_pool
        packed = self._pack(keys, args)
        conn = pool.get_connection()
        try:  # redis-py's own retry policy, as execute_command applies it
            return conn.retry.call_with_retry(lambda: _send(conn, packed),
                                              lambda _error: conn.disconnect())
        except NoScriptError:
            pass
        finally:
            pool.release(conn)
        return self.script(keys=keys, args=args)

    def _on_cluster(self, keys: Sequence[str], args: Sequence[Arg]):
        try:
            node = self.client.get_node_from_key(keys[0])
        except (RedisClusterException, IndexError):  # slots not learned yet; no key
            return self.script(keys=keys, args=args)
        if node is None or node.redis_connection is None:
            return self.script(keys=keys, args=args)
        pool, conn = node.redis_connection.connection_pool, None
        try:
            conn = pool.get_connection()  # a master that died refuses here: detour
            return _send(conn, self._pack(keys, args))
        except TimeoutError:
            raise
        except _CLUSTER_DETOURS + (NoScriptError,):
            pass
        finally:
            if conn is not None:
                pool.release(conn)
        return self.script(keys=keys, args=args)

    def _pack(self, keys: Sequence[str], args: Sequence[Arg]) -> bytes:
        """``EVALSHA sha numkeys *keys *args`` in RESP, as redis-py's packer writes it."""
        parts = [b"*%d\r\n" % (3 + len(keys) + len(args)), self._prefix,
                 _bulk(str(len(keys)).encode())]
        parts += [_bulk(_encode(item)) for item in keys]
        parts += [_bulk(_encode(item)) for item in args]
        return b"".join(parts)


def _send(conn, packed: bytes):
    conn.send_packed_command((packed,))
    return conn.read_response()  # redis-py disconnects on any error mid-read


def _bulk(value: bytes) -> bytes:
    return b"$%d\r\n%s\r\n" % (len(value), value)


def _encode(value: Arg) -> bytes:
    """An argument as redis-py's encoder writes it (UTF-8 text, numbers in decimal)."""
    if isinstance(value, str):
        return value.encode()
    if isinstance(value, bytes):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return b"%d" % value
    if isinstance(value, float):
        return repr(value).encode()
    raise TypeError(f"a Redis script argument must be str, bytes, int or float, not {type(value)}")
