"""Inbound SMS commands: STATUS, CANCEL <code>, YES, HELP, STOP, START (English, Hindi, Bengali).

Text is matched case- and space-tolerantly (``" cancel  k7qp3m "``, ``"रद्द K7QP3M"``); any
other text gets the help reply — never silence. Every reply is a ledger row whose dedupe key
is the provider's message id, so a webhook the provider retries is answered once. Replies
confirm the sender's own action, so they go even after STOP; STOP only stops reminders and
notices (``sms_opt_outs``). A Hindi or Bengali keyword is answered in that language,
anything else in the phone's chosen language.
"""
from __future__ import annotations

import datetime as dt
import logging
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from gateway.config import Settings
from gateway.healthworkers.sms_commands import handle_health_worker_sms
from gateway.registry import appointments, beneficiaries
from gateway.reminders import texts, waitlist
from gateway.reminders.models import OptOut
from gateway.sms import outbox, templates
from gateway.sms.secrets import mask_phone
from gateway.storage import Appointment, Beneficiary, Database, Slot
from gateway.storage.ledger import Message, MessageKind
from gateway.storage.models import utcnow

log = logging.getLogger("vaxgate.sms.inbound")

KEYWORDS: dict[str, tuple[str, str | None]] = {}  # normalised word -> (command, language)
for _command, _words in {
    "STATUS": {"en": ["STATUS", "STATS", "BOOKING", "BOOKINGS"], "hi": ["स्थिति", "स्टेटस"],
               "bn": ["অবস্থা"]},
    "CANCEL": {"en": ["CANCEL", "CANCLE", "RADD"], "hi": ["रद्द", "रद"], "bn": ["বাতিল"]},
    "YES": {"en": ["YES", "Y", "HAAN", "HAN", "HA"], "hi": ["हाँ", "हां", "हा"],
            "bn": ["হ্যাঁ", "হা"]},
    "HELP": {"en": ["HELP", "MADAD", "INFO", "?"], "hi": ["मदद", "सहायता"], "bn": ["সাহায্য"]},
    "STOP": {"en": ["STOP", "UNSUBSCRIBE", "BAND", "STOPALL"], "hi": ["बंद", "रोकें", "रोको"],
             "bn": ["বন্ধ"]},
    "START": {"en": ["START", "UNSTOP", "SHURU"], "hi": ["शुरू", "चालू"], "bn": ["চালু"]},
}.items():
    for _lang, _list in _words.items():
        KEYWORDS.update({w: (_command, None if _lang == "en" else _lang) for w in _list})

TRAILING_PUNCTUATION = ".,!?;:।'\"“”"
REFERENCE = re.compile(r"^[A-Z0-9]{6}$")


@dataclass(frozen=True)
class Command:
    name: str  # STATUS, CANCEL, YES, HELP, STOP, START or UNKNOWN
    argument: str = ""
    lang: str | None = None  # the language of the keyword, when it says one


def parse(text: str) -> Command:
    """The command in an SMS body; UNKNOWN when the first word is no keyword."""
    words = unicodedata.normalize("NFC", text or "").split()
    if not words:
        return Command("UNKNOWN")
    first = words[0].strip(TRAILING_PUNCTUATION).upper() or words[0].upper()
    found = KEYWORDS.get(first)
    if found is None:
        return Command("UNKNOWN")
    argument = "".join(words[1:]).strip(TRAILING_PUNCTUATION).upper()
    return Command(found[0], argument, found[1])


def without_controls(text: str) -> str:
    """``text`` without control characters other than tab and line breaks."""
    return "".join(ch for ch in text or "" if ch in "\t\n\r" or unicodedata.category(ch) != "Cc")


@dataclass
class Reply:
    """What the handler decided: texts to send back, and follow-up work after commit."""

    bodies: list[str]
    kind: MessageKind = MessageKind.CONFIRMATION
    freed_circle: str | None = None  # a cancellation freed a place in this postal circle


class InboundSms:
    """Handles one inbound SMS: runs the command, records the replies, enqueues them."""

    def __init__(self, db: Database, settings: Settings,
                 enqueue: Callable[[list[int], str], object] | None = None,
                 now: Callable[[], dt.datetime] = utcnow):
        self.db = db
        self.settings = settings
        self.enqueue = enqueue
        self.now = now

    def receive(self, phone: str, text: str, message_key: str) -> list[int]:
        """Answer the SMS ``text`` from E.164 ``phone``; ``message_key`` names it uniquely."""
        text = without_controls(text)  # NUL & co. mean nothing in an SMS (PostgreSQL refuses NUL)
        command = parse(text)
        log.info("inbound %s from %s", command.name, mask_phone(phone))
        key = f"inbound:{message_key}"[:110]
        with self.db.write() as session:
            if _already_answered(session, key):
                return []
            lang = command.lang or beneficiaries.get_language(session, phone) or "en"
            worker_reply = handle_health_worker_sms(session, phone, text, self.settings,
                                                    self.now())
            reply = Reply([worker_reply]) if worker_reply else HANDLERS[command.name](
                self, session, phone, command, lang)
            ids = [outbox.record_message(session, phone=phone, kind=reply.kind, body=body,
                                         lang=lang, dedupe_key=f"{key}:{n}").id
                   for n, body in enumerate(reply.bodies, 1)]
        self._after_commit(ids, reply)
        return ids

    def _after_commit(self, ids: list[int], reply: Reply) -> None:
        if self.enqueue is None:
            return
        try:
            self.enqueue(ids, "notify")
            if reply.freed_circle is not None:
                offers = waitlist.run(self.db, self.settings, circle=reply.freed_circle)
                self.enqueue(offers, "notify")
        except Exception as exc:  # noqa: BLE001 - rows are in SQL; sweepers pick them up
            log.warning("inbound follow-up deferred to the sweepers: %s", exc)

    # ---- commands ---------------------------------------------------------------------

    def status(self, session: Session, phone: str, command: Command, lang: str) -> Reply:
        lines = [texts.render("status_line", lang, reference=a.reference,
                              name=a.beneficiary.name, date=a.slot.date,
                              window=(a.slot.start_time, a.slot.end_time),
                              center=a.slot.center.name)
                 for a in appointments.list_for_phone(session, phone)]
        lines += [texts.render("status_waiting", lang, name=name)
                  for name in waitlist.waiting_names(session, phone)]
        if not lines:
            return Reply([self._text("status_none", lang)])
        return Reply([texts.render("status", lang, lines="\n".join(lines))])

    def cancel(self, session: Session, phone: str, command: Command, lang: str) -> Reply:
        found = _booking(session, phone, command.argument) if REFERENCE.match(
            command.argument) else None
        if found is None and not command.argument:
            mine = appointments.list_for_phone(session, phone)
            example = mine[0].reference if mine else "K7QP3M"
            return Reply([self._text("cancel_which", lang, example=example)])
        if found is None:
            return Reply([self._text("cancel_unknown", lang, reference=command.argument[:10])])
        cancelled = appointments.cancel(session, found.id, phone=phone, channel="sms")
        slot = cancelled.slot
        body = templates.render("booking_cancelled", lang, reference=cancelled.reference,
                                center=slot.center.name, date=slot.date)
        return Reply([body], freed_circle=slot.center.pincode[:2])

    def yes(self, session: Session, phone: str, command: Command, lang: str) -> Reply:
        now = self.now()
        today = now.astimezone(ZoneInfo(self.settings.timezone)).date()
        bodies = []
        for offer in waitlist.live_offers(session, phone, now):
            booked = waitlist.claim(session, offer.entry_id, phone, now, today, "sms")
            if booked is not None:
                slot = booked.slot
                bodies.append(templates.render(
                    "booking_confirmed", lang, reference=booked.reference,
                    center=slot.center.name, date=slot.date,
                    window=(slot.start_time, slot.end_time)))
        return Reply(bodies or [self._text("no_offer", lang)])

    def help(self, session: Session, phone: str, command: Command, lang: str) -> Reply:
        return Reply([self._text("help", lang)])

    def unknown(self, session: Session, phone: str, command: Command, lang: str) -> Reply:
        return Reply([self._text("unknown", lang)])

    def stop(self, session: Session, phone: str, command: Command, lang: str) -> Reply:
        if session.get(OptOut, phone) is None:
            session.add(OptOut(phone=phone, keyword="STOP", at=self.now()))
        return Reply([self._text("stopped", lang)])

    def start(self, session: Session, phone: str, command: Command, lang: str) -> Reply:
        session.execute(delete(OptOut).where(OptOut.phone == phone))
        return Reply([self._text("started", lang)])

    def _text(self, name: str, lang: str, **vars: str) -> str:
        ussd = self.settings.ussd
        return texts.render(name, lang, short_code=ussd.service_codes[0],
                            helpline=ussd.helpline, **vars)


HANDLERS: dict[str, Callable[[InboundSms, Session, str, Command, str], Reply]] = {
    "STATUS": InboundSms.status, "CANCEL": InboundSms.cancel, "YES": InboundSms.yes,
    "HELP": InboundSms.help, "STOP": InboundSms.stop, "START": InboundSms.start,
    "UNKNOWN": InboundSms.unknown,
}


def _already_answered(session: Session, key: str) -> bool:
    return session.scalar(select(Message.id).where(Message.dedupe_key == f"{key}:1")) is not None


def _booking(session: Session, phone: str, reference: str) -> Appointment | None:
    return session.scalar(select(Appointment).join(Beneficiary).join(
        Slot, Appointment.slot_id == Slot.id).where(
        Appointment.reference == reference, Beneficiary.phone == phone,
        Appointment.status == appointments.BOOKED))


def is_opted_out(session: Session, phone: str) -> bool:
    """True if ``phone`` replied STOP (and not START since)."""
    return session.get(OptOut, phone) is not None
