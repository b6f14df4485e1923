"""SMS texts in English, Hindi and Bengali, and :func:`render`.

Dates and windows come pre-formatted (``gateway.text.i18n.format_date`` / ``format_window``) or
as ``datetime.date`` / ``(start, end)`` which are formatted here in the message's language.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from gateway.sms.errors import TemplateError
from gateway.storage.ledger import MessageKind
from gateway.text import i18n
from gateway.text.encoding import is_gsm7, normalize_latin

TEMPLATES: dict[str, dict[str, str]] = {
    "booking_confirmed": {
        "en": "vaxgate: Vaccination booked. Ref {reference}, {center}, {date} {window}. "
              "Bring this SMS and your ID.",
        "hi": "vaxgate: टीकाकरण बुक हो गया। संदर्भ {reference}, {center}, {date} {window}। "
              "यह SMS और पहचान पत्र साथ लाएँ।",
        "bn": "vaxgate: টিকার বুকিং হয়েছে। রেফ {reference}, {center}, {date} {window}। "
              "এই SMS ও পরিচয়পত্র সঙ্গে আনুন।",
    },
    "booking_cancelled": {
        "en": "vaxgate: Appointment {reference} ({center}, {date}) is cancelled. "
              "You can book again any time.",
        "hi": "vaxgate: अपॉइंटमेंट {reference} ({center}, {date}) रद्द कर दिया गया है। "
              "आप कभी भी फिर से बुक कर सकते हैं।",
        "bn": "vaxgate: অ্যাপয়েন্টমেন্ট {reference} ({center}, {date}) বাতিল হয়েছে। "
              "আপনি যেকোনো সময় আবার বুক করতে পারেন।",
    },
    "booking_rescheduled": {
        "en": "vaxgate: Appointment {reference} moved to {center}, {date} {window}. "
              "Bring this SMS and your ID.",
        "hi": "vaxgate: अपॉइंटमेंट {reference} अब {center}, {date} {window} पर है। "
              "यह SMS और पहचान पत्र साथ लाएँ।",
        "bn": "vaxgate: অ্যাপয়েন্টমেন্ট {reference} এখন {center}, {date} {window}। "
              "এই SMS ও পরিচয়পত্র সঙ্গে আনুন।",
    },
    "your_turn": {
        "en": "vaxgate: It is your turn. Dial {code} within {minutes} minutes to register "
              "or book.",
        "hi": "vaxgate: आपकी बारी है। रजिस्टर या बुक करने के लिए {minutes} मिनट में {code} "
              "डायल करें।",
        "bn": "vaxgate: আপনার পালা। রেজিস্টার বা বুক করতে {minutes} মিনিটের মধ্যে {code} "
              "ডায়াল করুন।",
    },
    "otp": {
        "en": "{code} is your vaxgate verification code. Valid {minutes} min. Do not share it.",
        "hi": "{code} आपका vaxgate कोड है। {minutes} मिनट तक मान्य। किसी को न बताएँ।",
        "bn": "{code} আপনার vaxgate যাচাই কোড। {minutes} মিনিট বৈধ। কাউকে জানাবেন না।",
    },
}

KIND_OF: dict[str, MessageKind] = {
    "booking_confirmed": MessageKind.CONFIRMATION,
    "booking_cancelled": MessageKind.CONFIRMATION,
    "booking_rescheduled": MessageKind.CONFIRMATION,
    "otp": MessageKind.OTP,
    "your_turn": MessageKind.NOTICE,
}


def render(kind_name: str, lang: str, *, table: Mapping[str, Mapping[str, str]] | None = None,
           **vars: Any) -> str:
    """The text of template ``kind_name`` in ``lang`` (English if unsupported).

    ``table`` is another module's templates (same shape as ``TEMPLATES``), e.g. reminders.

    ``date`` may be a ``datetime.date`` and ``window`` a ``(start, end)`` pair of times; both
    are then formatted in ``lang``. Latin-script results are normalised to GSM-7 where a
    look-alike (NBSP, curly quote, dash) would otherwise force UCS-2.
    """
    texts = (TEMPLATES if table is None else table).get(kind_name)
    if texts is None:
        raise TemplateError(f"unknown SMS template {kind_name!r}")
    lang = lang if lang in texts else i18n.DEFAULT_LANGUAGE
    try:
        text = texts[lang].format(**_localise(vars, lang))
    except KeyError as exc:
        raise TemplateError(f"template {kind_name!r} needs variable {exc.args[0]!r}") from None
    return gsm7_if_possible(text)


def _localise(vars: dict[str, Any], lang: str) -> dict[str, Any]:
    """Format date and window values in the message's language."""
    out = dict(vars)
    if isinstance(out.get("date"), dt.date):
        out["date"] = i18n.format_date(out["date"], lang)
    if isinstance(out.get("window"), tuple):
        out["window"] = i18n.format_window(*out["window"], lang)
    return out


def gsm7_if_possible(text: str) -> str:
    """``text`` with typographic look-alikes replaced, if that makes it all GSM-7."""
    normalised = normalize_latin(text)
    return normalised if is_gsm7(normalised) else text
