"""Validate one CSV row of a paper registration; every problem of a row becomes an exact
reason, all of them at once.

Columns (header names, any order, case-insensitive): ``name``, ``birth_year``, ``gender``
(M/F/O or male/female/other), ``phone``, ``pincode`` are required; ``id_type`` +
``id_last4`` (a whole ID number is cut to its last 4 digits), and ``vaccinated_on``
(YYYY-MM-DD) + ``center_code`` + ``dose`` for a vaccination done on paper, are optional.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from gateway.flows.validators import VALIDATORS
from gateway.registry.beneficiaries import ID_TYPES, NO_ID
from gateway.text.phones import InvalidPhone, parse_phone

REQUIRED = ("name", "birth_year", "gender", "phone", "pincode")
CENTER_CODE = re.compile(r"[A-Za-z0-9_-]{2,16}")  # as gateway.admin.inventory.CenterIn
GENDERS = {"m": "M", "male": "M", "f": "F", "female": "F", "o": "O", "other": "O"}


class RowError(ValueError):
    """A row is rejected; the message is the reason shown with its line number."""


@dataclass(frozen=True)
class PaperRow:
    """A validated row."""

    name: str
    birth_year: int
    gender: str
    phone: str
    pincode: str
    id_type: str
    id_last4: str
    vaccinated_on: dt.date | None
    center_code: str
    dose: int


def missing_columns(header: list[str]) -> list[str]:
    """Required columns the header lacks."""
    return [name for name in REQUIRED if name not in header]


def parse_row(raw: dict[str, str], today: dt.date, min_age: int) -> PaperRow:
    """Validate ``raw``; raise RowError naming every bad field and its problem
    (``"pincode: ...; phone: ..."``), so a row is fixed in one go."""
    checks = {"name": lambda: _name(_need(raw, "name")),
              "birth_year": lambda: _year(_need(raw, "birth_year"), today, min_age),
              "gender": lambda: _gender(_need(raw, "gender")),
              "phone": lambda: _phone(_need(raw, "phone")),
              "pincode": lambda: _pincode(_need(raw, "pincode")),
              "id": lambda: _id(raw), "vaccination": lambda: _vaccination(raw, today)}
    values, problems = {}, []
    for key, check in checks.items():
        try:
            values[key] = check()
        except RowError as exc:
            problems.append(str(exc))
    if problems:
        raise RowError("; ".join(problems))
    (id_type, id_last4), (vaccinated_on, center_code, dose) = values["id"], values["vaccination"]
    return PaperRow(name=values["name"], birth_year=values["birth_year"],
                    gender=values["gender"], phone=values["phone"], pincode=values["pincode"],
                    id_type=id_type, id_last4=id_last4, vaccinated_on=vaccinated_on,
                    center_code=center_code, dose=dose)


def _name(text: str) -> str:
    name = VALIDATORS["name"].check(text, {}, {}).value
    if name is None:
        raise RowError("name: 2-40 letters, spaces, dots or apostrophes")
    return name


def _need(raw: dict[str, str], field: str) -> str:
    value = (raw.get(field) or "").strip()
    if not value:
        raise RowError(f"{field}: missing")
    return value


def _year(text: str, today: dt.date, min_age: int) -> int:
    if not re.fullmatch(r"\d{4}", text) or not today.year - 120 <= int(text) <= today.year:
        raise RowError(f"birth_year: {text!r} is not a year between {today.year - 120} "
                       f"and {today.year}")
    if today.year - int(text) < min_age:
        raise RowError(f"birth_year: {text} is under the minimum age of {min_age}")
    return int(text)


def _gender(text: str) -> str:
    if text.lower() not in GENDERS:
        raise RowError(f"gender: {text!r} is not M, F or O")
    return GENDERS[text.lower()]


def _phone(text: str) -> str:
    try:
        phone = parse_phone(text)
    except InvalidPhone:
        raise RowError(f"phone: {text!r} is not a mobile number") from None
    return phone


def _pincode(text: str) -> str:
    if not re.fullmatch(r"[1-9]\d{5}", text):
        raise RowError(f"pincode: {text!r} is not 6 digits starting 1-9")
    return text


def _id(raw: dict[str, str]) -> tuple[str, str]:
    id_type = (raw.get("id_type") or "").strip().lower()
    last4 = (raw.get("id_last4") or "").strip()
    if not id_type:
        return NO_ID, ""
    if id_type not in ID_TYPES:
        raise RowError(f"id_type: {id_type!r} is not one of {', '.join(sorted(ID_TYPES))}")
    # a whole ID number written on paper is cut to its last 4 digits here, before anything
    # stores it; the reason never repeats what was typed
    last4 = re.sub(r"[\s-]", "", last4)
    if not re.fullmatch(r"[A-Za-z0-9]{0,16}\d{4}", last4):
        raise RowError("id_last4: must be the last 4 digits of the ID")
    return id_type, last4[-4:]


def _vaccination(raw: dict[str, str], today: dt.date) -> tuple[dt.date | None, str, int]:
    text = (raw.get("vaccinated_on") or "").strip()
    if not text:
        return None, "", 1
    try:
        day = dt.date.fromisoformat(text)
    except ValueError:
        raise RowError(f"vaccinated_on: {text!r} is not a date like 2021-05-01") from None
    if day > today:
        raise RowError(f"vaccinated_on: {text} is in the future")
    dose = (raw.get("dose") or "1").strip()
    if dose not in ("1", "2", "3"):
        raise RowError(f"dose: {dose!r} is not 1, 2 or 3")
    code = _need(raw, "center_code")
    if not CENTER_CODE.fullmatch(code):
        raise RowError(f"center_code: {code[:20]!r} is not a center code")
    return day, code, int(dose)
