"""Twilio Programmable Messaging through the ``twilio`` SDK.

``base_url`` replaces ``https://api.twilio.com`` (a regional endpoint, a proxy, or the fake
provider in tests); ``sender`` is a From number, or a Messaging Service SID (``MG...``).
Credentials: ``account_sid`` and ``auth_token``.
"""
from __future__ import annotations

from twilio.base.exceptions import TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from gateway.sms.errors import TransportError
from gateway.sms.providers.base import (
    Provider,
    classify_http,
    http_errors,
    malformed,
)

# Twilio error codes that mean "this recipient cannot get this SMS from anyone".
PERMANENT_CODES = frozenset({21211, 21214, 21217, 21610, 21614})


class TwilioProvider(Provider):
    kind = "twilio"
    required_credentials = ("account_sid", "auth_token")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.client = Client(self.credentials["account_sid"], self.credentials["auth_token"],
                             http_client=TwilioHttpClient(timeout=self.timeout))
        if self.config.base_url:
            self.client.api.base_url = self.config.base_url.rstrip("/")

    def send(self, phone: str, body: str) -> str:
        """Create a Message resource; return its SID (``SM...``)."""
        try:
            with http_errors(self):
                message = self.client.messages.create(to=phone, body=body, **self._origin())
        except TwilioRestException as exc:
            raise _classify(exc) from None
        if not message.sid:
            raise malformed(self.name, "no sid")
        return message.sid

    def _origin(self) -> dict[str, str]:
        """From number or messaging service, plus the status callback when we have a URL."""
        sender = self.config.sender
        origin = {"messaging_service_sid": sender} if sender.startswith("MG") else \
            {"from_": sender}
        if self.callback_base:
            origin["status_callback"] = f"{self.callback_base}/sms/twilio/status"
        return origin


def _classify(exc: TwilioRestException) -> TransportError:
    """Map a Twilio API error to a TransportError (recipient errors are permanent)."""
    if exc.code in PERMANENT_CODES:
        return TransportError(f"twilio {exc.code}: {str(exc.msg)[:120]}",
                              code=f"twilio_{exc.code}", retryable=False)
    error = classify_http(int(exc.status), str(exc.msg))
    if exc.code and 400 <= exc.status < 500 and exc.status not in (401, 403, 408, 429):
        error.code = f"twilio_{exc.code}"
    return error
