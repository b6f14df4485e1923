"""Localized short dates and time windows for USSD, IVR and SMS text (en, hi, bn).

Digits stay ASCII in every language on purpose: feature phones often lack Devanagari and
Bengali digit glyphs, IVR voices read ASCII digits reliably, and people type ASCII digits
on the keypad, so a date shown as "सोम 23 नवं." is the one they can read back.
Names follow CLDR abbreviated forms, shortened where CLDR has none.
"""

from __future__ import annotations

import datetime as dt

LANGUAGES = ("en", "hi", "bn")
DEFAULT_LANGUAGE = "en"

WEEKDAYS = {  # Monday first, as date.weekday() counts
    "en": ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"),
    "hi": ("सोम", "मंगल", "बुध", "गुरु", "शुक्र", "शनि", "रवि"),
    "bn": ("সোম", "মঙ্গল", "বুধ", "বৃহস্পতি", "শুক্র", "শনি", "রবি"),
}

MONTHS = {
    "en": ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"),
    "hi": ("जन.", "फ़र.", "मार्च", "अप्रैल", "मई", "जून", "जुला.", "अग.", "सितं.", "अक्टू.", "नवं.", "दिसं."),
    "bn": ("জানু", "ফেব", "মার্চ", "এপ্রি", "মে", "জুন", "জুল", "আগ", "সেপ", "অক্টো", "নভে", "ডিসে"),
}


def _lang(lang: str | None) -> str:
    """The language itself if supported, else English."""
    return lang if lang in LANGUAGES else DEFAULT_LANGUAGE


def weekday_name(day: dt.date, lang: str | None) -> str:
    """Short weekday name, e.g. "Mon" / "सोम" / "সোম"."""
    return WEEKDAYS[_lang(lang)][day.weekday()]


def month_name(day: dt.date, lang: str | None) -> str:
    """Short month name, e.g. "Nov" / "नवं." / "নভে"."""
    return MONTHS[_lang(lang)][day.month - 1]


def format_date(day: dt.date | str, lang: str | None) -> str:
    """Short date label such as "Mon 23 Nov"; accepts a date or an ISO date string."""
    if isinstance(day, str):
        day = dt.date.fromisoformat(day)
    return f"{weekday_name(day, lang)} {day.day} {month_name(day, lang)}"


def _hhmm(value: dt.time | str) -> str:
    """A time as HH:MM (24-hour)."""
    if isinstance(value, str):
        value = dt.time.fromisoformat(value)
    return value.strftime("%H:%M")


def format_window(start: dt.time | str, end: dt.time | str, lang: str | None) -> str:
    """A slot window such as "09:00-11:00".

    The 24-hour HH:MM form reads the same in all three languages (vaccination-center and
    railway notices use it), so the text does not depend on `lang`; the parameter keeps the
    call shape of format_date so callers need no special case.
    """
    del lang  # same text in en/hi/bn, see above
    return f"{_hhmm(start)}-{_hhmm(end)}"


KILOMETRES = {"en": "km", "hi": "किमी", "bn": "কিমি"}
SPOKEN_KILOMETRES = {"en": "kilometres", "hi": "किलोमीटर", "bn": "কিলোমিটার"}
SPOKEN_UNDER_ONE = {"en": "under 1 kilometre", "hi": "1 किलोमीटर से कम",
                    "bn": "1 কিলোমিটারের কম"}


def format_distance(km: float, lang: str | None, spoken: bool = False) -> str:
    """A distance such as "9 km" / "9 किमी" / "9 কিমি" (under one km: "<1 km"); ``spoken``
    for a voice to read: "9 kilometres", "under 1 kilometre"."""
    lang = _lang(lang)
    if spoken:
        return SPOKEN_UNDER_ONE[lang] if km < 0.5 else f"{round(km)} {SPOKEN_KILOMETRES[lang]}"
    return f"<1 {KILOMETRES[lang]}" if km < 0.5 else f"{round(km)} {KILOMETRES[lang]}"


PERSON = {"en": "Person", "hi": "व्यक्ति", "bn": "ব্যক্তি"}
BORN = {"en": "born", "hi": "जन्म", "bn": "জন্ম"}


def numbered_person(number: int, lang: str | None) -> str:
    """The name of someone registered by voice until the center confirms it: "Person 2"."""
    return f"{PERSON[_lang(lang)]} {number}"


def person_label(name: str, birth_year: int, lang: str | None, spoken_name: bool) -> str:
    """A person in a list: "Sita Devi 1948", or, for a name only spoken (a recording),
    "Person 2, born 1968" / "व्यक्ति 2, जन्म 1968"."""
    if spoken_name:
        return f"{name}, {BORN[_lang(lang)]} {birth_year}"
    return f"{name} {birth_year}"
