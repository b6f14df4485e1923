"""SMS texts of the health-worker features: the certificate notice to the vaccinated person
and the replies to a worker's REG / VAX commands (English). Their entries are in
gateway/sms/templates.yaml with every other SMS text (registered on India's DLT platform).
"""
from __future__ import annotations

import datetime as dt
from typing import Any

from gateway.sms import templates
from gateway.text.i18n import DEFAULT_LANGUAGE


def certificate(lang: str, *, name: str, reference: str, date: dt.date,
                center: str) -> templates.SmsText:
    """The vaccination notice in ``lang`` (English if unsupported)."""
    return templates.render("certificate", lang, name=name, reference=reference, date=date,
                            center=center)


def reply(template: str, /, **vars: Any) -> templates.SmsText:
    """The reply ``template`` (``hw_*`` in templates.yaml) to a health worker's command."""
    return templates.render(template, DEFAULT_LANGUAGE, **vars)
