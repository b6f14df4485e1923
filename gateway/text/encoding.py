"""GSM 03.38 character set helpers: USSD screen limits and SMS segment counting.

USSD and SMS text is sent either in the GSM-7 alphabet or, as soon as one character is
outside it (any Hindi or Bengali letter, a curly quote, an ellipsis), in UCS-2. The
encoding decides how much fits: a USSD screen holds 182 GSM-7 characters but only 80 UCS-2
ones; an SMS segment 160 GSM-7 or 70 UCS-2 characters (153/67 when the message is split).
"""

from __future__ import annotations

GSM7 = "gsm7"
UCS2 = "ucs2"

USSD_GSM7_LIMIT = 182
USSD_UCS2_LIMIT = 80

_GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
# Extension table characters are sent as ESC + char, so each costs two septets.
_GSM7_EXTENSION = frozenset("\f^{}\\[~]|€")
_GSM7_ALL = _GSM7_BASIC | _GSM7_EXTENSION

_LATIN_REPLACEMENTS = {
    "\u00a0": " ",  # no-break space
    "\u202f": " ",  # narrow no-break space
    "\u2009": " ",  # thin space
    "\u2018": "'",
    "\u2019": "'",
    "\u201a": "'",
    "\u2032": "'",
    "\u201c": '"',
    "\u201d": '"',
    "\u201e": '"',
    "\u2033": '"',
    "\u2013": "-",  # en dash
    "\u2014": "-",  # em dash
    "\u2212": "-",  # minus sign
    "\u2026": "...",
}
_LATIN_TABLE = str.maketrans(_LATIN_REPLACEMENTS)

_SMS_SINGLE = {GSM7: 160, UCS2: 70}
_SMS_PART = {GSM7: 153, UCS2: 67}


def is_gsm7(text: str) -> bool:
    """True if every character is in the GSM 03.38 basic set or its extension table."""
    return _GSM7_ALL.issuperset(text)


def screen_limit(text: str) -> int:
    """USSD screen size for this text: 182 if it is all GSM-7, else 80."""
    return USSD_GSM7_LIMIT if is_gsm7(text) else USSD_UCS2_LIMIT


def normalize_latin(text: str) -> str:
    """Replace typographic look-alikes (NBSP, curly quotes, dashes, …) by GSM-7 characters."""
    return text.translate(_LATIN_TABLE)


def _units(text: str, encoding: str) -> list[int]:
    """Cost of each character: septets for GSM-7, UTF-16 code units for UCS-2."""
    if encoding == GSM7:
        return [2 if ch in _GSM7_EXTENSION else 1 for ch in text]
    return [2 if ord(ch) > 0xFFFF else 1 for ch in text]


def screen_length(text: str) -> int:
    """Length as the network counts it: GSM-7 extension and astral characters count 2."""
    if is_gsm7(text):  # on the hot path of every USSD render: no per-character loop
        return len(text) + sum(text.count(ch) for ch in _GSM7_EXTENSION)
    return sum(_units(text, UCS2))


def sms_segments(text: str) -> tuple[str, int]:
    """Return (encoding, segments) for an SMS: "gsm7" or "ucs2" and the billed part count.

    A single SMS holds 160 GSM-7 / 70 UCS-2 units; a split message 153 / 67 per part. An
    escape pair or a surrogate pair is never split across two parts. An empty message
    still costs one segment.
    """
    encoding = GSM7 if is_gsm7(text) else UCS2
    units = _units(text, encoding)
    if sum(units) <= _SMS_SINGLE[encoding]:
        return encoding, 1
    part, segments, used = _SMS_PART[encoding], 1, 0
    for cost in units:
        if used + cost > part:
            segments, used = segments + 1, 0
        used += cost
    return encoding, segments
