"""Localized date and window labels."""

from __future__ import annotations

import datetime as dt

import pytest

from gateway.text.i18n import format_date, format_window


@pytest.mark.parametrize("day, lang, label", [
    (dt.date(2020, 11, 23), "en", "Mon 23 Nov"),
    (dt.date(2020, 11, 23), "hi", "सोम 23 नवं."),
    (dt.date(2020, 11, 23), "bn", "সোম 23 নভে"),
    ("2021-04-01", "hi", "गुरु 1 अप्रैल"),
    ("2021-05-02", "bn", "রবি 2 মে"),
    ("2021-05-02", None, "Sun 2 May"),
    ("2021-05-02", "fr", "Sun 2 May"),
])
def test_format_date(day, lang, label):
    assert format_date(day, lang) == label


@pytest.mark.parametrize("start, end, lang", [
    (dt.time(9), dt.time(11), "en"), ("09:00", "11:00", "hi"), ("09:00:00", "11:00", "bn"),
])
def test_format_window_is_24_hour_in_every_language(start, end, lang):
    assert format_window(start, end, lang) == "09:00-11:00"
