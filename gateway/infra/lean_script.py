"""Lua scripts called over a pooled connection directly: the scripts every USSD step runs.

redis-py's command path (``Script.__call__`` -> ``evalsha`` -> ``execute_command``: the
retry wrapper, timing hooks, generic packing of every argument) costs about a third of a
script call's CPU here, 12-15 µs a call on top of the socket work (``bench/redis_call.py``),
and a step makes two to four calls. :class:`LeanScript` packs ``EVALSHA`` behind a prefix
built once, sends it on a connection of the client's own pool and reads the reply with the
pool's own parser, under the connection's own retry policy. A cluster client (which routes
by slot) and a ``NOSCRIPT`` reply (a Redis restarted or flushed) go through redis-py's
``Script``, which loads the script again.
"""
from __future__ import annotations

from collections.abc import Sequence

import redis
from redis.exceptions import NoScriptError

Arg = str | bytes | int | float


class LeanScript:
    """A registered Lua script; call it as ``script(keys=[...], args=[...])``."""

    def __init__(self, client: redis.Redis, source: str):
        self.script = client.register_script(source)  # the fallback, and the SHA
        # Only a plain client's pool hands out connections to any caller; a cluster client
        # must route by slot, so it keeps redis-py's path.
        self.pool = client.connection_pool if isinstance(client, redis.Redis) else None
        sha = self.script.sha.encode()
        self._prefix = b"$7\r\nEVALSHA\r\n$%d\r\n%s\r\n" % (len(sha), sha)

    def __call__(self, keys: Sequence[str], args: Sequence[Arg]):
        if self.pool is None:
            return self.script(keys=keys, args=args)
        packed = self._pack(keys, args)
        conn = self.pool.get_connection()
        try:  # redis-py's own retry policy, as execute_command applies it
            return conn.retry.call_with_retry(lambda: _send(conn, packed),
                                              lambda _error: conn.disconnect())
        except NoScriptError:  # a Redis restarted or flushed: redis-py loads it again
            pass
        finally:
            self.pool.release(conn)
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
