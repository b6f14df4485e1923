"""SMS providers: one module per kind, an explicit registry, and a builder from settings."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gateway.config import Settings
from gateway.sms.errors import ProviderConfigError
from gateway.sms.providers.africastalking import AfricasTalkingProvider
from gateway.sms.providers.base import Provider
from gateway.sms.providers.gupshup import GupshupProvider
from gateway.sms.providers.sandbox import SandboxProvider, sandbox_inbox
from gateway.sms.providers.twilio import TwilioProvider
from gateway.sms.secrets import read_secrets

KINDS: dict[str, type[Provider]] = {
    SandboxProvider.kind: SandboxProvider,
    TwilioProvider.kind: TwilioProvider,
    AfricasTalkingProvider.kind: AfricasTalkingProvider,
    GupshupProvider.kind: GupshupProvider,
}


def build_providers(settings: Settings, db: Any = None, env: Mapping[str, str] | None = None,
                    queue: str = "notify") -> dict[str, Provider]:
    """The enabled providers, by name, in configured priority order, with the timeouts of
    ``queue`` (``sms.queues``) and a connection pool for each of ``sms.send_threads``."""
    providers: dict[str, Provider] = {}
    limits = settings.sms.queues[queue]
    for config in settings.sms.providers:
        if not config.enabled:
            continue
        cls = KINDS.get(config.kind)
        if cls is None:
            raise ProviderConfigError(f"sms.providers[{config.name}].kind: unknown kind "
                                      f"{config.kind!r} (known: {', '.join(sorted(KINDS))})")
        providers[config.name] = cls(config, read_secrets(config.credentials_env, env), db=db,
                                     callback_base=settings.sms.public_base_url,
                                     timeout=config.timeouts(limits))
        providers[config.name].pool(settings.sms.send_threads)
    if not providers:
        raise ProviderConfigError("sms.providers: no provider is enabled")
    return providers


__all__ = ["KINDS", "Provider", "build_providers", "sandbox_inbox"]
