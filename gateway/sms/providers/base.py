"""The provider contract: ``send(phone, body) -> provider message id`` or ``TransportError``.

A provider only *classifies* errors (retryable or permanent, with a code); retry and
failover live in :mod:`gateway.sms.dispatch`. Every outbound call has an explicit timeout.
"""
from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any, ClassVar

import requests

from gateway.config import SmsProviderSettings
from gateway.sms.errors import ProviderConfigError, TransportError


class Provider:
    """Base class: one subclass per provider kind, registered in ``providers.KINDS``."""

    kind: ClassVar[str] = ""
    required_credentials: ClassVar[tuple[str, ...]] = ()

    def __init__(self, config: SmsProviderSettings, credentials: Mapping[str, str],
                 db: Any = None, callback_base: str = ""):
        missing = [k for k in self.required_credentials if not credentials.get(k)]
        if missing:
            names = ", ".join(config.credentials_env.get(k, f"credentials_env.{k}")
                              for k in missing)
            raise ProviderConfigError(
                f"sms.providers[{config.name}]: missing credential(s) {missing}: set {names}")
        self.name = config.name
        self.config = config
        self.credentials = dict(credentials)
        self.timeout = config.timeout_seconds
        self.db = db
        self.callback_base = callback_base.rstrip("/")

    def send(self, phone: str, body: str) -> str:
        """Send ``body`` to the E.164 ``phone``; return the provider's message id."""
        raise NotImplementedError

    def __repr__(self) -> str:  # never shows credentials
        return f"<{type(self).__name__} {self.name}>"


def classify_http(status: int, text: str = "") -> TransportError:
    """A TransportError for an HTTP error status: 429, 5xx, 401/403 are retryable."""
    retryable = status == 429 or status >= 500 or status in (401, 403, 408)
    return TransportError(f"HTTP {status}: {text[:120]}", code=f"http_{status}",
                          retryable=retryable)


def timeout_error(provider: str, seconds: float) -> TransportError:
    return TransportError(f"{provider}: no answer within {seconds:g}s", code="timeout",
                          retryable=True)


def connection_error(provider: str, exc: Exception) -> TransportError:
    return TransportError(f"{provider}: connection failed ({type(exc).__name__})",
                          code="connection", retryable=True)


def malformed(provider: str, what: str) -> TransportError:
    return TransportError(f"{provider}: malformed response: {what}", code="malformed",
                          retryable=True)


@contextmanager
def http_errors(provider: Provider) -> Iterator[None]:
    """Turn an SDK's timeout, connection or parsing failure into a retryable TransportError."""
    try:
        yield
    except requests.Timeout:
        raise timeout_error(provider.name, provider.timeout) from None
    except requests.RequestException as exc:
        raise connection_error(provider.name, exc) from None
    except (ValueError, KeyError, TypeError) as exc:
        raise malformed(provider.name, type(exc).__name__) from None
