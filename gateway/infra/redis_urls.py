"""Redis clients from URLs: what redis-py reads (``redis://``, ``rediss://``, ``unix://``,
with ``:password@``) and ``redis+sentinel://`` for a Sentinel-managed master.

``redis+sentinel://[:PASSWORD@]HOST:26379[,HOST:26379...]/SERVICE[/DB]`` asks the Sentinels
for SERVICE's master when connecting and again after a connection fails, so a web node
follows a failover without a restart. RQ workers take ``follow_failover=False``: the master
found at start, on a plain connection (RQ rebuilds its connections from the pool's class,
which a Sentinel-managed pool does not survive); restart them after a failover. PASSWORD is
the master's (``requirepass``); Sentinels themselves are reached without one.
"""
from __future__ import annotations

from typing import Any
from urllib.parse import unquote, urlsplit

import redis
from redis.sentinel import Sentinel

SENTINEL_SCHEME = "redis+sentinel://"
SENTINEL_PORT = 26379


def redis_from_url(url: str, *, follow_failover: bool = True, **kwargs: Any) -> redis.Redis:
    """A client for ``url``; ``kwargs`` (timeouts...) go to every connection it makes."""
    if url.startswith(SENTINEL_SCHEME):
        return sentinel_master(url, follow_failover=follow_failover, **kwargs)
    return redis.Redis.from_url(url, **kwargs)


def sentinel_master(url: str, *, follow_failover: bool = True, **kwargs: Any) -> redis.Redis:
    """The master client of a ``redis+sentinel://`` URL (ValueError if it is malformed)."""
    parts = urlsplit(url)
    hosts = [_host_port(item) for item in parts.netloc.rpartition("@")[2].split(",")]
    path = [piece for piece in parts.path.split("/") if piece]
    if not path or len(path) > 2 or not all(host for host, _ in hosts):
        raise ValueError("write a Sentinel URL as redis+sentinel://[:password@]host:26379"
                         "[,host:26379]/service[/db]")
    db = int(path[1]) if len(path) > 1 and path[1].isdigit() else 0
    password = unquote(parts.password) if parts.password else None
    sentinel_kwargs = {k: v for k, v in kwargs.items() if k.startswith("socket_")}
    sentinel = Sentinel(hosts, sentinel_kwargs=sentinel_kwargs, password=password, db=db,
                        **kwargs)
    if follow_failover:
        return sentinel.master_for(path[0])
    host, port = sentinel.discover_master(path[0])
    return redis.Redis(host=host, port=port, db=db, password=password, **kwargs)


def _host_port(item: str) -> tuple[str, int]:
    host, _, port = item.strip().partition(":")
    return host, int(port) if port else SENTINEL_PORT
