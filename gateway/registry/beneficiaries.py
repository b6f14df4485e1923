"""Registering people: validation, the per-phone cap, and no duplicates."""
from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass, replace

from sqlalchemy import bindparam, func, insert, select
from sqlalchemy.orm import Session

from gateway.geo import places
from gateway.registry import outbox as upstream_events
from gateway.registry.errors import BeneficiaryCapReached, InvalidField, NotEligible
from gateway.storage import Beneficiary, PhoneProfile, attach, prepared
from gateway.storage.fast_read import FastRead, attach_row, columns_of
from gateway.storage.models import utcnow
from gateway.text import i18n
from gateway.text.i18n import DEFAULT_LANGUAGE

GENDERS = {"M", "F", "O"}
ID_TYPES = {"aadhaar", "voter", "pan", "dl", "passport", "ration"}
NO_ID = "none"  # health-worker SMS and paper rows may come without an ID: checked at the center
AGE_GROUP_SPLIT = 45


@dataclass(frozen=True)
class NewBeneficiary:
    """What a registration carries, as typed by the caller (validated by ``validate``)."""

    phone: str
    name: str
    birth_year: int
    gender: str
    id_type: str
    id_last4: str
    pincode: str
    language: str = DEFAULT_LANGUAGE
    channel: str = "ussd"
    name_recording_url: str | None = None  # IVR: the spoken name; the name awaits confirmation
    name_said_only: bool = False  # IVR: no written name at all: stored as "Person 2"


def name_key(name: str) -> str:
    """The form of a name used to spot duplicates: case- and space-insensitive."""
    return " ".join(unicodedata.normalize("NFKC", name).casefold().split())


def age_group(birth_year: int, today: dt.date) -> str:
    """The slot age group a person books in: '18-44' or '45+' (age reached this year)."""
    return "45+" if today.year - birth_year >= AGE_GROUP_SPLIT else "18-44"


def validate(person: NewBeneficiary, today: dt.date, min_age: int) -> None:
    """Raise InvalidField / NotEligible for anything the menus should have caught."""
    if not 2 <= len(person.name.strip()) <= 60:
        raise InvalidField("name", "must be 2 to 60 characters")
    if not today.year - 120 <= person.birth_year <= today.year:
        raise InvalidField("birth_year", "out of range")
    if today.year - person.birth_year < min_age:
        raise NotEligible(min_age)
    if person.gender not in GENDERS:
        raise InvalidField("gender", f"must be one of {sorted(GENDERS)}")
    if person.id_type not in ID_TYPES | {NO_ID}:
        raise InvalidField("id_type", f"must be one of {sorted(ID_TYPES)}")
    if person.id_type == NO_ID and person.id_last4:
        raise InvalidField("id_last4", "must be empty when there is no ID")
    if person.id_type != NO_ID and not re.fullmatch(r"\d{4}", person.id_last4):
        raise InvalidField("id_last4", "must be exactly 4 digits")
    if not re.fullmatch(r"[1-9]\d{5}", person.pincode):
        raise InvalidField("pincode", "must be 6 digits, not starting with 0")


def register(session: Session, person: NewBeneficiary, *, today: dt.date, min_age: int,
             cap: int) -> tuple[Beneficiary, bool]:
    """Register ``person``; return (beneficiary, created). The same person twice is one row.
    A PIN code that India Post's directory does not have is an InvalidField.

    The phone's profile row is locked first, so concurrent registrations from one phone
    cannot together exceed ``cap``.
    """
    validate(person, today, min_age)
    if not places.is_pincode(session, person.pincode):
        raise InvalidField("pincode", f"{person.pincode} is not a PIN code in India Post's "
                                      "directory")
    _lock_phone(session, person.phone, person.language)
    on_phone = list_for_phone(session, person.phone)  # at most ``cap`` rows: one query
    if person.name_said_only:  # only a recording: "Person 2" in their language till confirmed
        person = replace(person, name=i18n.numbered_person(len(on_phone) + 1, person.language))
    key = name_key(person.name)
    for existing in on_phone:
        if existing.name_key == key and existing.birth_year == person.birth_year:
            return existing, False
    if len(on_phone) >= cap:
        raise BeneficiaryCapReached(len(on_phone), cap)
    row = {"phone": person.phone, "name": " ".join(person.name.split()), "name_key": key,
           "birth_year": person.birth_year, "gender": person.gender,
           "id_type": person.id_type, "id_last4": person.id_last4,
           "pincode": person.pincode, "language": person.language, "channel": person.channel,
           "name_recording_url": person.name_recording_url,
           "name_confirmed": person.name_recording_url is None, "created_at": utcnow()}
    # Core, not the ORM's unit of work, which more than doubles a registration's CPU
    row["id"] = session.connection().execute(_INSERT_BENEFICIARY, row).scalar_one()
    beneficiary = attach(session, Beneficiary, row)
    upstream_events.record_registration(session, beneficiary)
    return beneficiary, True


_INSERT_BENEFICIARY = insert(Beneficiary.__table__).returning(Beneficiary.__table__.c.id)


_COUNT_FOR_PHONE = FastRead(select(func.count()).select_from(Beneficiary)
                            .where(Beneficiary.phone == bindparam("phone")))


def count_for_phone(where, phone: str) -> int:
    """People registered on ``phone`` (``where``: a Database or a Session)."""
    return _COUNT_FOR_PHONE.scalar(where, phone=phone) or 0


_ON_PHONE = FastRead(select(*columns_of(Beneficiary))
                     .where(Beneficiary.phone == bindparam("phone")).order_by(Beneficiary.id))


def list_for_phone(session: Session, phone: str) -> list[Beneficiary]:
    """The people registered on ``phone``, first registered first."""
    return [attach_row(session, (Beneficiary,), row)[0]
            for row in _ON_PHONE.rows(session, phone=phone)]


def _lock_phone(session: Session, phone: str, language: str) -> None:
    """Ensure the phone's profile row exists, then hold its row lock until commit.

    On SQLite the INSERT has already taken the database's single write lock (held until
    commit), so only PostgreSQL needs the row lock."""
    now = utcnow()
    session.connection().execute(prepared(session, _add_profile), {
        "phone": phone, "language": language, "created_at": now, "updated_at": now})
    if session.get_bind().dialect.name != "sqlite":
        session.execute(select(PhoneProfile.phone).where(PhoneProfile.phone == phone)
                        .with_for_update())


def _add_profile(insert):
    return insert(PhoneProfile.__table__).on_conflict_do_nothing(index_elements=["phone"])


def _set_profile_language(insert):
    statement = insert(PhoneProfile.__table__)
    return statement.on_conflict_do_update(
        index_elements=["phone"], set_={"language": statement.excluded.language,
                                        "updated_at": statement.excluded.updated_at})


_LANGUAGE = FastRead(select(PhoneProfile.language)
                     .where(PhoneProfile.phone == bindparam("phone")))


def get_language(where, phone: str) -> str | None:
    """The language this phone chose before, if any (``where``: a Database or a Session)."""
    return _LANGUAGE.scalar(where, phone=phone)


def set_language(session: Session, phone: str, language: str) -> None:
    """Remember the phone's language (insert or update)."""
    now = utcnow()
    session.connection().execute(prepared(session, _set_profile_language), {
        "phone": phone, "language": language, "created_at": now, "updated_at": now})
