"""Africa's Talking bulk SMS over its documented HTTP API, with a plain ``requests.Session``.

``POST {base_url}/version1/messaging`` (form ``username``, ``to``, ``message``, ``from``;
header ``apiKey``); ``base_url`` replaces ``https://api.africastalking.com`` (the ``sandbox``
username defaults to ``https://api.sandbox.africastalking.com``). Credentials: ``username``
and ``api_key``; ``sender`` is the sender id / short code. Africa's Talking does not list
India among its SMS markets: route +91 away from it (docs/providers.md).
"""
from __future__ import annotations

import requests

from gateway.sms.dlt import DltTag
from gateway.sms.errors import TransportError
from gateway.sms.providers.base import (
    Provider,
    classify_http,
    http_errors,
    malformed,
)

ENDPOINTS = {"live": "https://api.africastalking.com",
             "sandbox": "https://api.sandbox.africastalking.com"}
ACCEPTED = frozenset({100, 101, 102})  # Processed, Sent, Queued
# InvalidPhoneNumber, UnsupportedNumberType, UserInBlacklist, DoNotDisturbRejection
PERMANENT = frozenset({403, 404, 406, 409})


class AfricasTalkingProvider(Provider):
    kind = "africastalking"
    required_credentials = ("username", "api_key")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # the documented endpoint, not the SDK: its transport is private and drops the status
        username = self.credentials["username"]
        base = self.config.base_url or ENDPOINTS["sandbox" if username == "sandbox" else "live"]
        self.url = base.rstrip("/") + "/version1/messaging"
        self.session = requests.Session()  # one connection pool per provider
        self.session.headers.update({"apiKey": self.credentials["api_key"],
                                     "Accept": "application/json"})

    @property
    def requests_report(self) -> bool:
        """Reports go to the URL set in the AT dashboard, which carries this secret."""
        return bool(self.config.webhook_secret_env)

    def send(self, phone: str, body: str, dlt: DltTag | None = None) -> str:
        """POST /version1/messaging for one recipient; return its ``messageId``."""
        form = {"username": self.credentials["username"], "to": phone, "message": body}
        if self.config.sender:
            form["from"] = self.config.sender
        with http_errors(self):
            response = self.session.post(self.url, data=form, timeout=self.timeout)
        if not 200 <= response.status_code < 300:
            raise classify_http(response.status_code, response.text)
        try:
            reply = response.json()
        except ValueError:
            raise malformed(self.name, "not JSON") from None
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
