"""India's DLT rules in the SMS tests: a registered catalogue, Gupshup settings, its fake."""
from __future__ import annotations

import dataclasses

from gateway.sms import templates
from gateway.sms.templates import Catalogue

ENTITY_ID = "1101456789012345678"
HEADER = "VAXGTE"
OTP_EN_ID = "1107161234567890123"
CONFIRMED_EN_ID = "1107161234567890456"
GUPSHUP_USERID, GUPSHUP_PASSWORD = "2000123456", "gupshup-password-0123456789"
GUPSHUP_SECRET = "gupshup-webhook-secret-77"
GUPSHUP_ENV = {"GUPSHUP_USERID": GUPSHUP_USERID, "GUPSHUP_PASSWORD": GUPSHUP_PASSWORD,
               "GUPSHUP_WEBHOOK_SECRET": GUPSHUP_SECRET}


def registered(ids: dict[tuple[str, str], str]) -> Catalogue:
    """The shipped catalogue with DLT template ids for the (template, lang) entries given."""
    shipped = templates.CATALOGUE
    entries = {name: {lang: dataclasses.replace(e, dlt_template_id=ids.get((name, lang), ""))
                      for lang, e in texts.items()}
               for name, texts in shipped.entries.items()}
    return Catalogue(entries, shipped.samples)


def gupshup_config(url: str, timeout: float = 1.0) -> dict:
    """A Gupshup provider on the fake server at ``url``."""
    return {"name": "gupshup", "kind": "gupshup", "base_url": url, "timeout_seconds": timeout,
            "webhook_secret_env": "GUPSHUP_WEBHOOK_SECRET",
            "credentials_env": {"userid": "GUPSHUP_USERID", "password": "GUPSHUP_PASSWORD"}}


def dlt_settings(settings, providers: list[dict], **sms):
    """The test settings with ``providers``, this deployment's DLT identity and +91 under it."""
    data = settings.model_dump()
    data["sms"] = {**data["sms"], "providers": providers, **sms,
                   "dlt": {"entity_id": ENTITY_ID, "header": HEADER,
                           "required_prefixes": ["+91"]}}
    return type(settings).model_validate(data)
