"""Redis clients by role (session, queue) with short timeouts, and what to say when one does
not answer: the setting that names it and its URL without the password."""
from __future__ import annotations

import re
from dataclasses import dataclass

import redis
from redis.exceptions import RedisClusterException

from gateway.config import ConfigError, Settings
from gateway.infra.redis_urls import is_cluster_url, redis_from_url


def connect_redis(url: str) -> redis.Redis:
    """A Redis client with short timeouts: a slow Redis must not hang a USSD step."""
    return redis_from_url(url, socket_timeout=2.0, socket_connect_timeout=2.0,
                          health_check_interval=30)


def connect_redis_pair(settings: Settings) -> tuple[redis.Redis, redis.Redis]:
    """(session, queue) clients; one client when both roles name the same URL. A URL that
    is not one raises ConfigError naming its setting."""
    session = connect_role(settings, "session")
    return session, session if redis_roles(settings) == ["session"] else \
        connect_role(settings, "queue")


def redis_roles(settings: Settings) -> list[str]:
    """The Redis servers to connect to: ``["session"]`` when the queue role shares its URL."""
    same = settings.redis_url_for("queue") == settings.redis_url_for("session")
    return ["session"] if same else ["session", "queue"]


def connect_role(settings: Settings, role: str) -> redis.Redis:
    """The client for ``role`` (session, queue); ConfigError naming the setting if its URL
    cannot be read."""
    url = settings.redis_url_for(role)
    if role == "queue" and is_cluster_url(url):
        raise ConfigError(f"{settings.redis_setting(role)}: RQ queues need one Redis (or a "
                          "Sentinel-managed one), not a cluster: set queue_redis_url")
    try:
        return connect_redis(url)
    except ValueError as exc:
        raise ConfigError(f"{settings.redis_setting(role)}: {exc}") from None


@dataclass(frozen=True)
class RedisProblem:
    """A Redis that did not answer: the setting naming it, its URL (no password), the error."""

    setting: str
    url: str
    error: str
    detail: str

    def __str__(self) -> str:
        return f"{self.setting} ({self.url}): {self.error}: {self.detail}"


def redis_problem(settings: Settings, role: str, client: redis.Redis) -> RedisProblem | None:
    """None if the ``role`` Redis answers PING, else what is wrong and which setting names it."""
    try:
        client.ping()
        return None
    except redis.RedisError as exc:
        return RedisProblem(settings.redis_setting(role),
                            safe_redis_url(settings.redis_url_for(role)),
                            type(exc).__name__, str(exc))


def safe_redis_url(url: str) -> str:
    """A Redis URL with its password replaced by ***."""
    return re.sub(r"(//[^/@:]*:)[^@/]*@", r"\1***@", url)


def redis_problems(settings: Settings) -> list[RedisProblem | ConfigError]:
    """Ping the session and the queue Redis (once when they are the same); what failed."""
    problems: list[RedisProblem | ConfigError] = []
    for role in redis_roles(settings):
        try:
            problem = redis_problem(settings, role, connect_role(settings, role))
        except ConfigError as exc:
            problem = exc
        except RedisClusterException as exc:  # a cluster client asks its nodes when made
            problem = RedisProblem(settings.redis_setting(role),
                                   safe_redis_url(settings.redis_url_for(role)),
                                   type(exc).__name__, str(exc))
        if problem is not None:
            problems.append(problem)
    return problems
