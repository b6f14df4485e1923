"""The per-process objects every request needs: settings, database, Redis, menus."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import redis
from flask import current_app

from gateway.config import Settings
from gateway.storage import Database


@dataclass
class Runtime:
    settings: Settings
    db: Database
    redis: redis.Redis
    menus: Any  # gateway.admin.publishing.MenuStore: the built-in or last published menus
    admission: Any = None  # gateway.admission.Admission: session ceiling + virtual queue

    @property
    def flows(self) -> Any:
        """The live gateway.flows.FlowSet (a newly published version within a second)."""
        return self.menus.current()

    def flows_for(self, version: str | None) -> Any:
        """The FlowSet a session started on, or the live one if that version is unknown."""
        return self.menus.get(version) or self.flows


def connect_redis(url: str) -> redis.Redis:
    """A Redis client with short timeouts: a slow Redis must not hang a USSD step."""
    return redis.Redis.from_url(url, socket_timeout=2.0, socket_connect_timeout=2.0,
                                health_check_interval=30, decode_responses=False)


def get_runtime() -> Runtime:
    """The Runtime of the current Flask app."""
    return current_app.extensions["vaxgate"]
