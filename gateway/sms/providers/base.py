"""The provider contract: ``send(phone, body, dlt) -> provider message id`` or ``TransportError``.

A provider only *classifies* errors (retryable or permanent, with a code); retry and
failover live in :mod:`gateway.sms.dispatch`. Every outbound call has an explicit timeout.
"""
from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any, ClassVar

import requests
from requests.adapters import HTTPAdapter

from gateway.config import SmsProviderSettings
from gateway.sms.dlt import DltTag
from gateway.sms.errors import ProviderConfigError, TransportError

DEFAULT_TIMEOUT_S = 5.0

class Provider:
    """Base class: one subclass per provider kind, registered in ``providers.KINDS``."""

    kind: ClassVar[str] = ""
    required_credentials: ClassVar[tuple[str, ...]] = ()
    # each send carries our status-callback URL, built from ``sms.public_base_url``
    needs_callback_url: ClassVar[bool] = False

    def __init__(self, config: SmsProviderSettings, credentials: Mapping[str, str],
                 db: Any = None, callback_base: str = "",
                 timeout: tuple[float, float] | None = None):
        """``timeout``: (connect, read) seconds of each call, set per queue by
        ``build_providers`` (default: ``config.timeout_seconds``, else 5 s)."""
        missing = [k for k in self.required_credentials if not credentials.get(k)]
        if missing:
            names = ", ".join(config.credentials_env.get(k, f"credentials_env.{k}")
                              for k in missing)
            raise ProviderConfigError(
                f"sms.providers[{config.name}]: missing credential(s) {missing}: set {names}")
        self.name = config.name
        self.config = config
        self.credentials = dict(credentials)
        self.timeout = timeout or (config.timeout_seconds or DEFAULT_TIMEOUT_S,) * 2
        self.db = db
        self.callback_base = callback_base.rstrip("/")

    def send(self, phone: str, body: str, dlt: DltTag | None = None) -> str:
        """Send ``body`` to the E.164 ``phone``; return the provider's message id.

        ``dlt``: the DLT ids when the number is under India's rules (gateway/sms/dlt.py),
        for a provider whose API takes them per request."""
        raise NotImplementedError

    @property
    def requests_report(self) -> bool:
        """Whether a delivery report will be posted for each send (else none is awaited)."""
        return False

    def pool(self, size: int) -> None:
        """Keep up to ``size`` connections open (one per concurrent sender) in the
        provider's ``requests.Session``, if it has one as ``self.session``."""
        session = getattr(self, "session", None)
        if isinstance(session, requests.Session):
            pooled(session, size)

    def __repr__(self) -> str:  # never shows credentials
        return f"<{type(self).__name__} {self.name}>"


def pooled(session: requests.Session, size: int) -> requests.Session:
    """``session`` with room for ``size`` reusable connections per host (requests keeps 10,
    and opens a new connection for each sender beyond them)."""
    adapter = HTTPAdapter(pool_connections=4, pool_maxsize=size)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


def classify_http(status: int, text: str = "") -> TransportError:
    """A TransportError for an HTTP error status: 429, 5xx, 401/403 are retryable."""
    retryable = status == 429 or status >= 500 or status in (401, 403, 408)
    return TransportError(f"HTTP {status}: {text[:120]}", code=f"http_{status}",
                          retryable=retryable)


def timeout_error(provider: str, seconds: float | tuple[float, float]) -> TransportError:
    limit = f"{seconds[0]:g}s to connect, {seconds[1]:g}s to answer" \
        if isinstance(seconds, tuple) else f"{seconds:g}s"
    return TransportError(f"{provider}: no answer within {limit}", code="timeout",
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
