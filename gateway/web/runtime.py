"""The per-process objects every request needs: settings, database, Redis, menus."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

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
    admission: Any = None  # gateway.sessions.admission.Admission: session ceiling + virtual queue
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


def get_runtime() -> Runtime:
    """The Runtime of the current Flask app."""
    return current_app.extensions["vaxgate"]
