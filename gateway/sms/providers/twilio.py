"""Twilio Programmable Messaging through the ``twilio`` SDK.

``base_url`` replaces ``https://api.twilio.com`` (a regional endpoint, a proxy, or the fake
provider in tests); ``sender`` is a From number, or a Messaging Service SID (``MG...``).
Credentials: ``account_sid`` and ``auth_token``.
"""
from __future__ import annotations

from twilio.base.exceptions import TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from gateway.sms.dlt import DltTag
from gateway.sms.errors import TransportError
from gateway.sms.providers.base import (
    Provider,
    classify_http,
    http_errors,
    malformed,
    pooled,
)
from gateway.sms.reports import TWILIO_ERROR
from gateway.storage.ledger import Verdict


class TwilioProvider(Provider):
    kind = "twilio"
    required_credentials = ("account_sid", "auth_token")
    needs_callback_url = True

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        http = TwilioHttpClient()
        http.timeout = self.timeout  # (connect, read): the SDK's own check wants one number
        self.client = Client(self.credentials["account_sid"], self.credentials["auth_token"],
                             http_client=http)
        if self.config.base_url:
            self.client.api.base_url = self.config.base_url.rstrip("/")

    def pool(self, size: int) -> None:
        """The SDK's own session, pooled for ``size`` concurrent senders."""
        pooled(self.client.http_client.session, size)

    def send(self, phone: str, body: str, dlt: DltTag | None = None) -> str:
        """Create a Message resource; return its SID (``SM...``).

        ``dlt`` is not sent: for India, Twilio holds the entity id and templates registered
        with it and matches each body against them (docs/providers.md)."""
        try:
            with http_errors(self):
                message = self.client.messages.create(to=phone, body=body, **self._origin())
        except TwilioRestException as exc:
            raise _classify(exc) from None
        if not message.sid:
            raise malformed(self.name, "no sid")
        return message.sid

    @property
    def requests_report(self) -> bool:
        """Twilio reports only to the ``StatusCallback`` given with each send."""
        return bool(self.callback_base)

    def _origin(self) -> dict[str, str]:
        """From number or messaging service, plus the status callback when we have a URL."""
        sender = self.config.sender
        origin = {"messaging_service_sid": sender} if sender.startswith("MG") else \
            {"from_": sender}
        if self.callback_base:
            origin["status_callback"] = f"{self.callback_base}/sms/twilio/status"
        return origin


def _classify(exc: TwilioRestException) -> TransportError:
    """Map a Twilio API error to a TransportError: a code in ``reports.TWILIO_ERROR`` is
    permanent when its verdict is final (the recipient), else the next provider is tried."""
    rule = TWILIO_ERROR.get(str(exc.code))
    if rule is not None:
        return TransportError(f"twilio {exc.code}: {str(exc.msg)[:120]}",
                              code=f"twilio_{exc.code}",
                              retryable=rule.verdict is not Verdict.FINAL)
    error = classify_http(int(exc.status), str(exc.msg))
    if exc.code and 400 <= exc.status < 500 and exc.status not in (401, 403, 408, 429):
        error.code = f"twilio_{exc.code}"
    return error
