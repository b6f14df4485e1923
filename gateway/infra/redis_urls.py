"""Redis clients from URLs: what redis-py reads (``redis://``, ``rediss://``, ``unix://``,
with ``:password@``), ``redis+sentinel://`` for a Sentinel-managed master and
``redis+cluster://`` for a Redis Cluster (sessions only: RQ needs a single Redis).

``redis+cluster://[:PASSWORD@]HOST:PORT[,HOST:PORT...]`` names some nodes of the cluster;
redis-py's RedisCluster learns the rest from them, routes each command and script to the
master of its keys' slot and follows failovers and slot moves (MOVED/ASK) by itself.
Every script of the session role keeps its keys under one hash tag, so it runs in one slot.

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
from redis.backoff import ExponentialBackoff
from redis.cluster import ClusterNode, RedisCluster
from redis.retry import Retry
from redis.sentinel import Sentinel

SENTINEL_SCHEME = "redis+sentinel://"
SENTINEL_PORT = 26379
CLUSTER_SCHEME = "redis+cluster://"
CLUSTER_PORT = 6379
CLUSTER_RETRIES = 3  # a failover takes a few seconds; a USSD step cannot wait longer


def redis_from_url(url: str, *, follow_failover: bool = True, **kwargs: Any) -> redis.Redis:
    """A client for ``url``; ``kwargs`` (timeouts...) go to every connection it makes."""
    if url.startswith(SENTINEL_SCHEME):
        return sentinel_master(url, follow_failover=follow_failover, **kwargs)
    if url.startswith(CLUSTER_SCHEME):
        return cluster_client(url, **kwargs)
    return redis.Redis.from_url(url, **kwargs)


def is_cluster_url(url: str) -> bool:
    """Whether ``url`` names a Redis Cluster (``redis+cluster://``)."""
    return url.startswith(CLUSTER_SCHEME)


def cluster_client(url: str, **kwargs: Any) -> RedisCluster:
    """A RedisCluster client of a ``redis+cluster://`` URL (ValueError if it is malformed)."""
    parts = urlsplit(url)
    nodes = [_host_port(item, CLUSTER_PORT) for item in parts.netloc.rpartition("@")[2].split(",")]
    if not all(host for host, _ in nodes) or parts.path.strip("/") not in ("", "0"):
        raise ValueError("write a Redis Cluster URL as redis+cluster://[:password@]host:port"
                         "[,host:port] (database 0 only)")
    kwargs.pop("health_check_interval", None)  # RedisCluster checks its nodes itself
    return RedisCluster(startup_nodes=[ClusterNode(host, port) for host, port in nodes],
                        password=unquote(parts.password) if parts.password else None,
                        retry=Retry(ExponentialBackoff(cap=0.5, base=0.05), CLUSTER_RETRIES),
                        **kwargs)


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


def _host_port(item: str, default_port: int = SENTINEL_PORT) -> tuple[str, int]:
    host, _, port = item.strip().partition(":")
    return host, int(port) if port else default_port
