"""The per-process objects every request needs: settings, database, Redis, menus."""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import redis
from flask import current_app

from gateway.config import ConfigError, Settings
from gateway.redis_urls import redis_from_url
from gateway.storage import Database


@dataclass
class Runtime:
    settings: Settings
    db: Database
    redis: redis.Redis
    menus: Any  # gateway.admin.publishing.MenuStore: the built-in or last published menus
    admission: Any = None  # gateway.admission.Admission: session ceiling + virtual queue
    queue_redis: redis.Redis | None = None  # RQ queues (queue_redis_url); None: ``redis``

    def __post_init__(self) -> None:
        if self.queue_redis is None:
            self.queue_redis = self.redis

    @property
    def flows(self) -> Any:
        """The live gateway.flows.FlowSet (a newly published version within a second)."""
        return self.menus.current()

    def flows_for(self, version: str | None) -> Any:
        """The FlowSet a session started on, or the live one if that version is unknown."""
        return self.menus.get(version) or self.flows


    def today(self) -> dt.date:
        """Today's date in the deployment's time zone."""
        return dt.datetime.now(ZoneInfo(self.settings.timezone)).date()

    def engine_settings(self) -> dict[str, Any]:
        """The settings the menu engine puts into every session's vars."""
        rules = self.settings.registration
        return {"min_age": rules.min_age, "max_beneficiaries": rules.max_beneficiaries_per_phone,
                "helpline": self.settings.ussd.helpline}

    def registry_actions(self, channel: str) -> Any:
        """The service object the engine calls, for one request on ``channel`` (ussd, ivr)."""
        from gateway.registry.actions import RegistryActions
        from gateway.registry.availability import AvailabilityCache
        from gateway.sms.outbox import enqueue_messages

        return RegistryActions(
            self.db, self.settings, channel=channel,
            enqueue_sms=lambda ids: enqueue_messages(self.queue_redis, ids, queue="notify",
                                                     settings=self.settings.sms),
            availability=AvailabilityCache(self.redis),
            redis_clients=(self.redis, self.queue_redis))


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
    try:
        return connect_redis(settings.redis_url_for(role))
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


def get_runtime() -> Runtime:
    """The Runtime of the current Flask app."""
    return current_app.extensions["vaxgate"]


def redis_problems(settings: Settings) -> list[RedisProblem | ConfigError]:
    """Ping the session and the queue Redis (once when they are the same); what failed."""
    problems: list[RedisProblem | ConfigError] = []
    for role in redis_roles(settings):
        try:
            problem = redis_problem(settings, role, connect_role(settings, role))
        except ConfigError as exc:
            problem = exc
        if problem is not None:
            problems.append(problem)
    return problems
