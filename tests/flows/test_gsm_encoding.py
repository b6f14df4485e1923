"""GSM-7 detection, USSD screen limits and SMS segment counts."""

from __future__ import annotations

import pytest

from gateway.text.encoding import (
    is_gsm7,
    normalize_latin,
    screen_length,
    screen_limit,
    sms_segments,
)


@pytest.mark.parametrize("text, gsm7", [
    ("Booked! Code K7QP3M", True),
    ("Price: 100 € [approx] {ok} ~ ^ | \\", True),   # extension table
    ("Café Zürich ñ Å Δ", True),
    ("", True),
    ("बुक हो गया", False),
    ("বুক হয়েছে", False),
    ("it’s", False),          # curly apostrophe
    ("wait…", False),
    ("tab\there", False),
])
def test_is_gsm7(text, gsm7):
    assert is_gsm7(text) is gsm7


@pytest.mark.parametrize("text, limit", [("Book a slot", 182), ("स्लॉट बुक करें", 80), ("ok…", 80)])
def test_screen_limit_depends_on_encoding(text, limit):
    assert screen_limit(text) == limit


def test_screen_length_counts_extension_characters_twice():
    assert screen_length("a€b") == 4
    assert screen_length("बुक") == 3


@pytest.mark.parametrize("text, expected", [
    ("it’s “fine”", "it's \"fine\""),
    ("09:00–11:00 — ok…", "09:00-11:00 - ok..."),
    ("PHC\u00a0Danapur", "PHC Danapur"),
    ("plain", "plain"),
])
def test_normalize_latin_makes_text_gsm7(text, expected):
    assert normalize_latin(text) == expected
    assert is_gsm7(normalize_latin(text))


@pytest.mark.parametrize("text, expected", [
    ("", ("gsm7", 1)),
    ("a" * 160, ("gsm7", 1)),
    ("a" * 161, ("gsm7", 2)),
    ("a" * 306, ("gsm7", 2)),
    ("a" * 307, ("gsm7", 3)),
    ("€" * 80, ("gsm7", 1)),        # 160 septets
    ("€" * 81, ("gsm7", 2)),
    ("a" * 152 + "€", ("gsm7", 1)),
    ("a" * 152 + "€" + "a" * 8, ("gsm7", 2)),  # escape pair is not split: 152 + 9
    ("क" * 70, ("ucs2", 1)),
    ("क" * 71, ("ucs2", 2)),
    ("क" * 134, ("ucs2", 2)),
    ("क" * 135, ("ucs2", 3)),
    ("a" * 100 + "’", ("ucs2", 2)),
])
def test_sms_segments(text, expected):
    assert sms_segments(text) == expected
