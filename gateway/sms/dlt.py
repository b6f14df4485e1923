"""India's SMS rules (TRAI DLT): registered patterns, the tag a provider sends, the refusal.

Every commercial SMS to a +91 number carries the sender's principal entity id, a registered
6-letter header and the id of a registered content template, and its text must match that
template: fixed words identical, variables only where the template has ``{#var#}``, at most
30 characters each. Operators drop a message that does not match, silently; so vaxgate
refuses, before any provider sees it, a message whose template has no registered id.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Protocol

from gateway.config import SmsSettings

VAR = "{#var#}"
VAR_LIMIT = 30  # characters one {#var#} may hold
VAR_RUN = re.compile(r"(?:\{#var#\})+")


@dataclass(frozen=True)
class DltTag:
    """The DLT ids a provider sends with a message (those that take them per request)."""

    entity_id: str
    header: str
    template_id: str


class Addressed(Protocol):
    """What the DLT rules need of a ledger message."""

    phone: str
    lang: str
    template: str | None
    dlt_template_id: str | None


def parts(pattern: str) -> tuple[list[str], list[int]]:
    """The fixed texts between variable runs, and how many ``{#var#}`` each run has."""
    runs = [len(m.group()) // len(VAR) for m in VAR_RUN.finditer(pattern)]
    return VAR_RUN.split(pattern), runs


def regex(pattern: str) -> re.Pattern[str]:
    """What an operator matches a message against: fixed text exact, each run up to 30×n."""
    fixed, runs = parts(pattern)
    body = re.escape(fixed[0]) + "".join(
        f"(.{{0,{VAR_LIMIT * n}}}){re.escape(text)}" for n, text in zip(runs, fixed[1:],
                                                                        strict=True))
    return re.compile(body, re.DOTALL)


def matches(pattern: str, text: str) -> bool:
    """True if ``text`` is an instance of the registered ``pattern``."""
    return regex(pattern).fullmatch(text) is not None


def is_enforced(sms: SmsSettings) -> bool:
    """DLT applies once a real provider is configured or the deployment has an entity id."""
    real = any(p.enabled and p.kind != "sandbox" for p in sms.providers)
    return real or bool(sms.dlt.entity_id)


def covers(sms: SmsSettings, phone: str) -> bool:
    """True if ``phone`` is under one of ``sms.dlt.required_prefixes``."""
    return any(phone.startswith(prefix) for prefix in sms.dlt.required_prefixes)


def refusal(sms: SmsSettings, message: Addressed) -> str | None:
    """Why ``message`` must not be handed to any provider, or None."""
    if not is_enforced(sms) or not covers(sms, message.phone) or message.dlt_template_id:
        return None
    if not message.template:
        return "DLT: text is not from a registered template (gateway/sms/templates.yaml)"
    return (f"DLT: template {message.template} ({message.lang}) has no dlt_template_id "
            "in gateway/sms/templates.yaml")


def tag(sms: SmsSettings, message: Addressed) -> DltTag | None:
    """The DLT ids to send with ``message``; None when its number is not under DLT rules."""
    if not covers(sms, message.phone):
        return None
    return DltTag(sms.dlt.entity_id, sms.dlt.header, message.dlt_template_id or "")
