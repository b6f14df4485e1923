"""Health-worker SMS commands, for the day USSD itself is congested.

    REG Sita Devi, 1948, F, 800001[, 98xxxxxxxx]   register (commas or spaces) and book the
                                                   first open window at the worker's center
    VAX K7QP3M                                     mark a booking at that center vaccinated

Keywords: REG / रजिस्टर / पंजीकरण / রেজিস্টার and VAX / टीका / টিকা. No PIN: the sender is
trusted because the SMS webhook checked the provider's signature (so the message came
through our provider account) and the sender number belongs to an active, unlocked worker.
See docs/health-workers.md for what that does and does not prove.

``handle_health_worker_sms`` returns the reply text, or None when the message is not a
health-worker command from a worker's phone (the citizen commands then handle it).
"""
from __future__ import annotations

import datetime as dt
import re
import unicodedata
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from gateway.config import Settings
from gateway.healthworkers import accounts, audit, center_day
from gateway.healthworkers.texts import reply
from gateway.imports.rows import RowError, parse_row
from gateway.registry import appointments, beneficiaries
from gateway.registry.errors import (
    AlreadyBooked,
    BeneficiaryCapReached,
    InvalidField,
    NotFound,
    SlotFull,
)
from gateway.storage.models import AppointmentStatus, Center

REG_WORDS = {"REG", "REGISTER", "रजिस्टर", "पंजीकरण", "রেজিস্টার"}
VAX_WORDS = {"VAX", "VACCINATED", "टीका", "টিকা"}
CHANNEL, AUDIT_CHANNEL = "hw_sms", "sms"


def handle_health_worker_sms(session: Session, sender_phone: str, text: str,
                             settings: Settings, now: dt.datetime | None = None) -> str | None:
    """Run a REG/VAX command from a worker's phone in ``session``; the reply, or None."""
    words = unicodedata.normalize("NFC", text or "").strip().split(maxsplit=1)
    keyword = words[0].strip(".,:").upper() if words else ""
    if keyword not in REG_WORDS | VAX_WORDS:
        return None
    worker = accounts.by_phone(session, sender_phone)
    if worker is None:
        return None
    now = (now or dt.datetime.now(dt.UTC)).astimezone(ZoneInfo(settings.timezone))
    until = accounts.locked_until(worker)
    if until:
        return reply("hw_locked", until=f"{until.astimezone(now.tzinfo):%H:%M}")
    rest = words[1] if len(words) > 1 else ""
    if keyword in VAX_WORDS:
        return _vax(session, worker, rest)
    return _reg(session, worker, rest, settings, now)


def _vax(session: Session, worker, rest: str) -> str:
    reference = re.sub(r"\s+", "", rest).upper()
    try:
        booked, _sms = center_day.mark(session, reference, AppointmentStatus.VACCINATED,
                                       center_id=worker.center_id, channel=CHANNEL)
    except NotFound:
        return reply("hw_vax_unknown", reference=reference or "?")
    audit.record(session, worker, channel=AUDIT_CHANNEL, action="vaccinated",
                 subject=booked.reference)
    return reply("hw_vax_done", reference=booked.reference, name=booked.beneficiary.name)


def _reg(session: Session, worker, rest: str, settings: Settings, now: dt.datetime) -> str:
    fields = split_fields(rest)
    if fields is None:
        return reply("hw_usage")
    try:
        row = parse_row({**fields, "phone": fields.get("phone") or worker.phone}, now.date(),
                        settings.registration.min_age)
    except RowError as exc:
        return reply("hw_reg_invalid", problem=str(exc))
    new = beneficiaries.NewBeneficiary(
        phone=row.phone, name=row.name, birth_year=row.birth_year, gender=row.gender,
        id_type=row.id_type, id_last4="", pincode=row.pincode, channel=CHANNEL)
    rules = settings.registration
    try:
        with session.begin_nested():
            person, created = beneficiaries.register(session, new, today=now.date(),
                                                     min_age=rules.min_age,
                                                     cap=rules.max_beneficiaries_per_phone)
    except BeneficiaryCapReached as exc:
        return reply("hw_reg_cap", phone=row.phone, count=exc.count, cap=exc.cap)
    except InvalidField as exc:  # a PIN code India Post's directory does not have
        return reply("hw_reg_invalid", problem=str(exc))
    audit.record(session, worker, channel=AUDIT_CHANNEL,
                 action="register" if created else "register_existing", subject=str(person.id))
    return _book(session, worker, person, settings, now)


def _book(session: Session, worker, person, settings: Settings, now: dt.datetime) -> str:
    """Book the first open window at the worker's center; the reply names it."""
    center = session.get(Center, worker.center_id)
    days = [now.date() + dt.timedelta(days=d) for d in range(settings.booking.days_ahead)]
    group = beneficiaries.age_group(person.birth_year, now.date())
    for slot in center_day.open_slots(session, worker.center_id, group, days, now):
        try:
            with session.begin_nested():
                booked = appointments.book(session, person.id, slot.id, today=now.date(),
                                           channel=CHANNEL)
        except SlotFull:
            continue
        except AlreadyBooked as exc:
            return reply("hw_reg_already_booked", name=person.name, reference=exc.reference)
        audit.record(session, worker, channel=AUDIT_CHANNEL, action="book",
                     subject=booked.reference)
        return reply("hw_reg_booked", name=person.name, reference=booked.reference,
                     center=center.name, date=slot.date, window=(slot.start_time, slot.end_time))
    return reply("hw_reg_no_slot", name=person.name, number=person.id)


def split_fields(rest: str) -> dict[str, str] | None:
    """name, birth_year, gender, pincode[, phone] from commas or spaces; None if unusable."""
    if "," in rest:
        parts = [p.strip() for p in rest.split(",")]
    else:
        tokens = rest.split()
        year_at = next((i for i, t in enumerate(tokens) if re.fullmatch(r"\d{4}", t)), None)
        if not year_at:
            return None
        parts = [" ".join(tokens[:year_at]), *tokens[year_at:]]
    if len(parts) not in (4, 5):
        return None
    names = ("name", "birth_year", "gender", "pincode", "phone")
    return dict(zip(names, parts, strict=False))
