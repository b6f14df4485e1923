"""Built-in validators: tables of valid and invalid answers."""

from __future__ import annotations

import pytest

from gateway.flows.validators import VALIDATORS

VARS = {"today": "2021-11-20", "min_age": 18}


@pytest.mark.parametrize("raw, cleaned", [
    ("Sita Devi", "Sita Devi"),
    ("  sita   devi  ", "Sita Devi"),
    ("RAM PRASAD", "Ram Prasad"),
    ("o'brien", "O'Brien"),
    ("Dr. A.K. DeSouza", "Dr. A.K. DeSouza"),
    ("सीता देवी", "सीता देवी"),
    ("সীতা দেবী", "সীতা দেবী"),
    ("Jo", "Jo"),
])
def test_name_accepts_letters_of_any_script(raw, cleaned):
    assert VALIDATORS["name"].check(raw, {}, VARS).value == cleaned


@pytest.mark.parametrize("raw", ["", "S", "  .  ", "Sita 2", "Sita@Devi", "x" * 41, "1948"])
def test_name_rejects(raw):
    verdict = VALIDATORS["name"].check(raw, {}, VARS)
    assert (verdict.value, verdict.error) == (None, "error.invalid_name")


@pytest.mark.parametrize("raw, min_age, expected", [
    ("1948", 18, ("1948", None)),
    ("2003", 18, ("2003", None)),           # turns 18 this year: eligible by year of birth
    ("2004", 18, (None, "error.not_eligible")),
    ("1976", 45, ("1976", None)),
    ("1977", 45, (None, "error.not_eligible")),
    ("१९४८", 18, ("1948", None)),            # Devanagari digits
    ("১৯৪৮", 18, ("1948", None)),            # Bengali digits
    ("1901", 18, ("1901", None)),            # exactly 120 years
    ("1900", 18, (None, "error.invalid_year")),
    ("2022", 18, (None, "error.invalid_year")),  # future
    ("48", 18, (None, "error.invalid_year")),
    ("19a8", 18, (None, "error.invalid_year")),
    ("", 18, (None, "error.invalid_year")),
])
def test_birth_year_checks_format_range_and_min_age(raw, min_age, expected):
    verdict = VALIDATORS["birth_year"].check(raw, {}, {**VARS, "min_age": min_age})
    assert (verdict.value, verdict.error) == expected


@pytest.mark.parametrize("args, raw, expected", [
    ({"length": 4}, "4821", ("4821", None)),
    ({"length": 4}, " 0007 ", ("0007", None)),
    ({"length": 4}, "482", (None, "error.digits_length")),
    ({"length": 4}, "48a1", (None, "error.digits_length")),
    ({"min": 1, "max": 3}, "7", ("7", None)),
    ({"min": 1, "max": 3}, "7777", (None, "error.digits_range")),
    ({"min": 1, "max": 3}, "-1", (None, "error.digits_range")),
])
def test_digits_checks_count(args, raw, expected):
    verdict = VALIDATORS["digits"].check(raw, args, VARS)
    assert (verdict.value, verdict.error) == expected


@pytest.mark.parametrize("args, problems", [
    ({"length": 4}, []),
    ({"min": 1, "max": 3}, []),
    ({}, ["needs either 'length' or both 'min' and 'max'"]),
    ({"min": 1}, ["needs either 'length' or both 'min' and 'max'"]),
    ({"length": "4"}, ["arguments must be positive integers"]),
    ({"min": 5, "max": 3}, ["'min' is greater than 'max'"]),
])
def test_digits_arguments_are_checked(args, problems):
    assert VALIDATORS["digits"].arg_errors(args) == problems


@pytest.mark.parametrize("raw, valid", [
    ("800001", True), ("110011", True), ("०८००01", False), ("080001", False),
    ("80000", False), ("8000011", False), ("80 0001", False), ("abcdef", False),
])
def test_pincode_is_six_digits_not_starting_with_zero(raw, valid):
    verdict = VALIDATORS["pincode"].check(raw, {}, VARS)
    assert (verdict.value is not None) is valid
    assert verdict.error == (None if valid else "error.invalid_pincode")
