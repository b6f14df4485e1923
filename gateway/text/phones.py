"""Phone numbers: parsed once at the edge (phonenumbers), carried as E.164, masked in logs."""
from __future__ import annotations

import functools
import re
from typing import Annotated

import phonenumbers
from pydantic import AfterValidator

DEFAULT_REGION = "IN"
PHONE_CHARS = re.compile(r"\+?[\d\s\-().]{4,30}")
E164_FORM = re.compile(r"^\+[1-9]\d{6,14}$")  # what parse_phone gives: a cheap check inside


class InvalidPhone(ValueError):
    """The text is not a possible phone number."""


@functools.lru_cache(maxsize=65536)  # a caller sends ~15 steps from the same number
def parse_phone(raw: str, region: str = DEFAULT_REGION) -> str:
    """Return ``raw`` as E.164 (``+919876543210``) or raise InvalidPhone."""
    text = (raw or "").strip()
    if not PHONE_CHARS.fullmatch(text):
        raise InvalidPhone("only digits, spaces, dashes and a leading + are allowed")
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException as exc:
        raise InvalidPhone(str(exc)) from None
    if not phonenumbers.is_possible_number(number):
        raise InvalidPhone("not a possible number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _e164(value: str) -> str:
    """parse_phone for a schema field: a ValueError that pydantic reports under the field."""
    try:
        return parse_phone(value)
    except InvalidPhone as exc:
        raise ValueError(f"not a phone number ({exc})") from None


E164 = Annotated[str, AfterValidator(_e164)]
"""A schema field holding a phone number: any written form in, E.164 out."""


def mask_phone(phone: str) -> str:
    """``+919876543210`` -> ``+91******3210``: enough to tell numbers apart in a log."""
    if len(phone) <= 7:
        return "*" * len(phone)
    return phone[:3] + "*" * (len(phone) - 7) + phone[-4:]
