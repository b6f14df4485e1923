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
    admission: Any = None  # gateway.admission.Admission: session ceiling + virtual queue

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
            enqueue_sms=lambda ids: enqueue_messages(self.redis, ids, queue="notify",
                                                     settings=self.settings.sms),
            availability=AvailabilityCache(self.redis))


def connect_redis(url: str) -> redis.Redis:
    """A Redis client with short timeouts: a slow Redis must not hang a USSD step."""
    return redis.Redis.from_url(url, socket_timeout=2.0, socket_connect_timeout=2.0,
                                health_check_interval=30, decode_responses=False)


def get_runtime() -> Runtime:
    """The Runtime of the current Flask app."""
    return current_app.extensions["vaxgate"]
