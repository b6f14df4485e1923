"""Africa's Talking bulk SMS through the ``africastalking`` SDK.

``base_url`` replaces ``https://api.africastalking.com`` (the SDK appends ``/version1``).
Credentials: ``username`` and ``api_key``; ``sender`` is the sender id / short code.
"""
from __future__ import annotations

from africastalking.Service import DEFAULT_TIMEOUT_S
from africastalking.SMS import SMSService

from gateway.sms.errors import TransportError
from gateway.sms.providers.base import (
    Provider,
    classify_http,
    http_errors,
    malformed,
)

ACCEPTED = frozenset({100, 101, 102})  # Processed, Sent, Queued
# InvalidPhoneNumber, UnsupportedNumberType, UserInBlacklist, DoNotDisturbRejection
PERMANENT = frozenset({403, 404, 406, 409})


class _SMSService(SMSService):
    """The SDK's SMS service on our base URL, keeping the HTTP status of a failure.

    The SDK's own ``_make_request`` raises ``AfricasTalkingException(body)`` and drops the
    status code, which is what tells a 429 from a 400; so we call the SDK's transport and
    classify the raw response ourselves.
    """

    def __init__(self, username: str, api_key: str, base_url: str):
        super().__init__(username, api_key)
        if base_url:
            self._baseUrl = base_url.rstrip("/") + "/version1"

    def _make_request(self, url, method, headers, data, params, callback=None,
                      timeout=DEFAULT_TIMEOUT_S):
        response = self._Service__make_post_request(url, headers, data, params, None, timeout)
        if not 200 <= response.status_code < 300:
            raise classify_http(response.status_code, response.text)
        return response.json()


class AfricasTalkingProvider(Provider):
    kind = "africastalking"
    required_credentials = ("username", "api_key")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.service = _SMSService(self.credentials["username"], self.credentials["api_key"],
                                   self.config.base_url)

    def send(self, phone: str, body: str) -> str:
        """POST /version1/messaging for one recipient; return its ``messageId``."""
        with http_errors(self):  # also: bad JSON, or the SDK refusing the number
            reply = self.service.send(body, [phone], sender_id=self.config.sender or None,
                                      timeout=self.timeout)
        return _recipient_id(self.name, reply)


def _recipient_id(name: str, reply: object) -> str:
    """The messageId of the single recipient, or the TransportError its statusCode means."""
    try:
        recipient = reply["SMSMessageData"]["Recipients"][0]  # type: ignore[index]
        status = int(recipient["statusCode"])
    except (KeyError, IndexError, TypeError, ValueError):
        raise malformed(name, "no SMSMessageData.Recipients[0].statusCode") from None
    if status in ACCEPTED and recipient.get("messageId"):
        return str(recipient["messageId"])
    reason = str(recipient.get("status", ""))[:80]
    raise TransportError(f"{name}: recipient status {status} {reason}", code=f"at_{status}",
                         retryable=status not in PERMANENT)
