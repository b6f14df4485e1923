"""Gupshup Enterprise SMS over its HTTP API, with a plain ``requests.Session``.

``POST {base_url}/GatewayAPI/rest`` with form fields ``method=SendMessage``, ``send_to``
(digits, 919812345678), ``msg``, ``msg_type`` (``TEXT``, or ``Unicode_text`` when the text
needs UCS-2), ``userid``, ``password``, ``auth_scheme=plain``, ``v=1.1``, ``format=text``,
``mask`` (the registered 6-letter header), ``principalEntityId`` and ``dltTemplateId``.
The answer is one line: ``success | 919812345678 | <message id>`` or ``error | 105 | Invalid
mobile number``. ``base_url`` replaces ``https://enterprise.smsgupshup.com``. Credentials:
``userid`` and ``password``.
"""
from __future__ import annotations

import re

import requests

from gateway.sms.dlt import DltTag
from gateway.sms.errors import TransportError
from gateway.sms.providers.base import Provider, classify_http, http_errors, malformed
from gateway.text.encoding import is_gsm7

ENDPOINT = "https://enterprise.smsgupshup.com"
PATH = "/GatewayAPI/rest"
# Error codes that no other try can fix: 105 is "Invalid mobile number".
PERMANENT_CODES = frozenset({"105"})
# Words of an error's text, for codes not listed above (the first match decides).
PERMANENT_WORDS = ("mobile number", "phone number", "template", "entity", "dlt", "mask",
                   "header", "blacklist", "dnd")


class GupshupProvider(Provider):
    kind = "gupshup"
    required_credentials = ("userid", "password")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.url = (self.config.base_url or ENDPOINT).rstrip("/") + PATH
        self.session = requests.Session()  # one connection pool per provider

    @property
    def requests_report(self) -> bool:
        """Reports go to the URL set in Gupshup's panel, which carries this secret."""
        return bool(self.config.webhook_secret_env)

    def send(self, phone: str, body: str, dlt: DltTag | None = None) -> str:
        """Send one SMS; return Gupshup's message id."""
        form = self._form(phone, body, dlt)
        with http_errors(self):
            response = self.session.post(self.url, data=form, timeout=self.timeout)
        if response.status_code != 200:
            raise classify_http(response.status_code, response.text)
        return parse_answer(self.name, response.text)

    def _form(self, phone: str, body: str, dlt: DltTag | None) -> dict[str, str]:
        """The documented form; the DLT ids for a number under India's rules."""
        if dlt is not None and not (dlt.entity_id and dlt.template_id):
            raise TransportError(f"{self.name}: no DLT entity or template id for this number",
                                 code="dlt_unregistered", retryable=False)
        form = {"method": "SendMessage", "send_to": phone.lstrip("+"), "msg": body,
                "msg_type": "TEXT" if is_gsm7(body) else "Unicode_text",
                "userid": self.credentials["userid"], "password": self.credentials["password"],
                "auth_scheme": "plain", "v": "1.1", "format": "text"}
        mask = dlt.header if dlt is not None and dlt.header else self.config.sender
        if mask:
            form["mask"] = mask
        if dlt is not None:
            form.update(principalEntityId=dlt.entity_id, dltTemplateId=dlt.template_id)
        return form


def parse_answer(name: str, text: str) -> str:
    """The message id of a ``success | phone | id`` line, or the error it reports."""
    fields = [f.strip() for f in text.strip().split("|")]
    if len(fields) == 3 and fields[0].lower() == "success" and fields[2]:
        return fields[2]
    if len(fields) >= 3 and fields[0].lower() == "error":
        raise classify_error(name, fields[1], "|".join(fields[2:]))
    raise malformed(name, "not 'success | phone | id' nor 'error | code | text'")


def classify_error(name: str, code: str, details: str) -> TransportError:
    """Invalid number or DLT template: permanent; anything else (auth too): another try."""
    lowered = details.lower()
    permanent = code in PERMANENT_CODES or any(w in lowered for w in PERMANENT_WORDS)
    code = re.sub(r"\W", "", code)[:10] or "unknown"
    return TransportError(f"{name}: error {code}: {details[:120]}", code=f"gupshup_{code}",
                          retryable=not permanent)
