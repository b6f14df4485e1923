"""The citizen's SMS commands: STATUS, CANCEL <code>, YES, HELP, STOP, START (English, Hindi,
Bengali), registered into the inbound dispatcher (gateway/sms/inbound.py) by gateway.wiring.

Replies confirm the sender's own action, so they go even after STOP; STOP only stops
reminders and notices (``sms_opt_outs``).
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from gateway.registry import appointments
from gateway.reminders import texts, waitlist
from gateway.reminders.models import OptOut
from gateway.sms import templates
from gateway.sms.inbound import REFERENCE, Command, InboundSms, Reply
from gateway.storage import Appointment, Beneficiary, Slot

WORDS: dict[str, dict[str, list[str]]] = {
    "STATUS": {
        "en": ["STATUS", "STATS", "BOOKING", "BOOKINGS"],
        "hi": ["स्थिति", "स्टेटस"],
        "bn": ["অবস্থা"],
    },
    "CANCEL": {"en": ["CANCEL", "CANCLE", "RADD"], "hi": ["रद्द", "रद"], "bn": ["বাতিল"]},
    "YES": {"en": ["YES", "Y", "HAAN", "HAN", "HA"], "hi": ["हाँ", "हां", "हा"], "bn": ["হ্যাঁ", "হা"]},
    "HELP": {"en": ["HELP", "MADAD", "INFO", "?"], "hi": ["मदद", "सहायता"], "bn": ["সাহায্য"]},
    "STOP": {
        "en": ["STOP", "UNSUBSCRIBE", "BAND", "STOPALL"],
        "hi": ["बंद", "रोकें", "रोको"],
        "bn": ["বন্ধ"],
    },
    "START": {"en": ["START", "UNSTOP", "SHURU"], "hi": ["शुरू", "चालू"], "bn": ["চালু"]},
}


def status(inbound: InboundSms, session: Session, phone: str, command: Command, lang: str) -> Reply:
    # one SMS per booking: each stays within its registered DLT template
    bodies = [
        texts.render(
            "status_booking",
            lang,
            reference=a.reference,
            name=a.beneficiary.name,
            date=a.slot.date,
            window=(a.slot.start_time, a.slot.end_time),
            center=a.slot.center.name,
        )
        for a in appointments.list_for_phone(session, phone)
    ]
    bodies += [
        texts.render("status_waiting", lang, name=name)
        for name in waitlist.waiting_names(session, phone)
    ]
    return Reply(bodies or [_text(inbound, "status_none", lang)])


def cancel(inbound: InboundSms, session: Session, phone: str, command: Command, lang: str) -> Reply:
    found = (
        _booking(session, phone, command.argument) if REFERENCE.match(command.argument) else None
    )
    if found is None and not command.argument:
        mine = appointments.list_for_phone(session, phone)
        example = mine[0].reference if mine else "K7QP3M"
        return Reply([_text(inbound, "cancel_which", lang, example=example)])
    if found is None:
        return Reply([_text(inbound, "cancel_unknown", lang, reference=command.argument[:10])])
    cancelled = appointments.cancel(session, found.id, phone=phone, channel="sms")
    slot = cancelled.slot
    body = templates.render(
        "booking_cancelled",
        lang,
        reference=cancelled.reference,
        center=slot.center.name,
        date=slot.date,
    )
    center_id = slot.center_id
    return Reply(
        [body],
        follow_up=lambda: waitlist.run(inbound.db, inbound.settings, near_center=center_id),
    )


def yes(inbound: InboundSms, session: Session, phone: str, command: Command, lang: str) -> Reply:
    now = inbound.now()
    today = now.astimezone(ZoneInfo(inbound.settings.timezone)).date()
    bodies = []
    for offer in waitlist.live_offers(session, phone, now):
        booked = waitlist.claim(session, offer.entry_id, phone, now, today, "sms")
        if booked is not None:
            slot = booked.slot
            bodies.append(
                templates.render(
                    "booking_confirmed",
                    lang,
                    reference=booked.reference,
                    center=slot.center.name,
                    date=slot.date,
                    window=(slot.start_time, slot.end_time),
                )
            )
    return Reply(bodies or [_text(inbound, "no_offer", lang)])


def help_(inbound: InboundSms, session: Session, phone: str, command: Command, lang: str) -> Reply:
    return Reply([_text(inbound, "help", lang)])


def unknown(
    inbound: InboundSms, session: Session, phone: str, command: Command, lang: str
) -> Reply:
    return Reply([_text(inbound, "unknown", lang)])


def stop(inbound: InboundSms, session: Session, phone: str, command: Command, lang: str) -> Reply:
    if session.get(OptOut, phone) is None:
        session.add(OptOut(phone=phone, keyword="STOP", at=inbound.now()))
    return Reply([_text(inbound, "stopped", lang)])


def start(inbound: InboundSms, session: Session, phone: str, command: Command, lang: str) -> Reply:
    session.execute(delete(OptOut).where(OptOut.phone == phone))
    return Reply([_text(inbound, "started", lang)])


def _text(inbound: InboundSms, name: str, lang: str, **vars: str) -> str:
    ussd = inbound.settings.ussd
    return texts.render(
        name, lang, short_code=ussd.service_codes[0], helpline=ussd.helpline, **vars
    )


HANDLERS = {
    "STATUS": status,
    "CANCEL": cancel,
    "YES": yes,
    "HELP": help_,
    "STOP": stop,
    "START": start,
    "UNKNOWN": unknown,
}


def _booking(session: Session, phone: str, reference: str) -> Appointment | None:
    return session.scalar(
        select(Appointment)
        .join(Beneficiary)
        .join(Slot, Appointment.slot_id == Slot.id)
        .where(
            Appointment.reference == reference,
            Beneficiary.phone == phone,
            Appointment.status == appointments.BOOKED,
        )
    )


def is_opted_out(session: Session, phone: str) -> bool:
    """True if ``phone`` replied STOP (and not START since)."""
    return session.get(OptOut, phone) is not None
