"""Texts of reminders, waitlist offers and inbound-command replies (en, hi, bn).

They live in gateway/sms/templates.yaml with every other SMS text: one file to register on
India's DLT platform and to check with ``vaxgate sms templates check``.
"""
from __future__ import annotations

from typing import Any

from gateway.sms import templates


def render(text: str, lang: str, /, **vars: Any) -> templates.SmsText:
    """The text ``text`` in ``lang`` (English if unsupported); dates/windows localised."""
    return templates.render(text, lang, **vars)
