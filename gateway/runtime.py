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
    flows: Any  # gateway.flows.FlowSet (loaded lazily so a broken menu names itself)


def connect_redis(url: str) -> redis.Redis:
    """A Redis client with short timeouts: a slow Redis must not hang a USSD step."""
    return redis.Redis.from_url(url, socket_timeout=2.0, socket_connect_timeout=2.0,
                                health_check_interval=30, decode_responses=False)


def get_runtime() -> Runtime:
    """The Runtime of the current Flask app."""
    return current_app.extensions["vaxgate"]
