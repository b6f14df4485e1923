"""Inbound SMS: find the command word, let the feature that registered it answer, record the
replies once.

Features register commands (keywords per language and a handler) and interceptors (a health
worker's message is theirs before any command) through ``register_command`` and
``register_interceptor``; gateway.wiring does this at start. Text is matched case- and
space-tolerantly (``" cancel  k7qp3m "``, ``"रद्द K7QP3M"``); text that is no keyword goes to
the ``UNKNOWN`` handler — never silence. Every reply is a ledger row whose dedupe key is the
provider's message id, so a webhook the provider retries is answered once. A Hindi or Bengali
keyword is answered in that language, anything else in the phone's chosen language.
"""
from __future__ import annotations

import datetime as dt
import logging
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.config import Settings
from gateway.registry import beneficiaries
from gateway.sms import outbox
from gateway.sms.budget import Budget
from gateway.sms.secrets import mask_phone
from gateway.storage import Database
from gateway.storage.ledger import Message, MessageKind
from gateway.storage.models import utcnow
from gateway.text.i18n import DEFAULT_LANGUAGE

log = logging.getLogger("vaxgate.sms.inbound")

TRAILING_PUNCTUATION = ".,!?;:।'\"“”"
REFERENCE = re.compile(r"^[A-Z0-9]{6}$")


@dataclass(frozen=True)
class Command:
    name: str  # a registered command name (STATUS, CANCEL...) or UNKNOWN
    argument: str = ""
    lang: str | None = None  # the language of the keyword, when it says one


@dataclass
class Reply:
    """What a handler decided: texts to send back, and work to do after the commit."""

    bodies: list[str]
    kind: MessageKind = MessageKind.CONFIRMATION
    follow_up: Callable[[], list[int]] | None = None  # more ledger ids to enqueue (offers)
    budgeted: bool = True  # False: a health worker's reply (their phone, their work)


Handler = Callable[["InboundSms", Session, str, Command, str], Reply]
# (session, phone, text, settings, now) -> a reply text if the message is theirs, else None
Interceptor = Callable[[Session, str, str, Settings, dt.datetime], "str | None"]

KEYWORDS: dict[str, tuple[str, str | None]] = {}  # normalised word -> (command, language)
HANDLERS: dict[str, Handler] = {}
INTERCEPTORS: list[Interceptor] = []


def register_command(name: str, words: dict[str, list[str]], handler: Handler) -> None:
    """Answer ``name`` with ``handler``; ``words`` are its keywords per language."""
    HANDLERS[name] = handler
    for lang, listed in words.items():
        KEYWORDS.update({w: (name, None if lang == DEFAULT_LANGUAGE else lang) for w in listed})


def register_interceptor(interceptor: Interceptor) -> None:
    """Offer every inbound SMS to ``interceptor`` before the commands (once per function).
    Its replies are not budgeted (gateway/sms/budget.py): an interceptor answers only the
    phones it trusts (the health workers')."""
    if interceptor not in INTERCEPTORS:
        INTERCEPTORS.append(interceptor)


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
class InboundSms:
    """Handles one inbound SMS: runs the command, records the replies, enqueues them."""

    db: Database
    settings: Settings
    enqueue: Callable[[list[int], str], object] | None = None
    now: Callable[[], dt.datetime] = field(default=utcnow)

    def receive(self, phone: str, text: str, message_key: str) -> list[int]:
        """Answer the SMS ``text`` from E.164 ``phone``; ``message_key`` names it uniquely."""
        text = without_controls(text)  # NUL & co. mean nothing in an SMS (PostgreSQL refuses NUL)
        command = parse(text)
        log.info("inbound %s from %s", command.name, mask_phone(phone))
        key = f"inbound:{message_key}"[:110]
        with self.db.write() as session:
            if _already_answered(session, key):
                return []
            lang = command.lang or beneficiaries.get_language(session, phone) or DEFAULT_LANGUAGE
            reply = self._answer(session, phone, text, command, lang)
            budget = Budget.of(self.settings.sms.budget) if reply.budgeted else None
            ids = [outbox.record_message(session, phone=phone, kind=reply.kind, body=body,
                                         lang=lang, dedupe_key=f"{key}:{n}", budget=budget).id
                   for n, body in enumerate(reply.bodies, 1)]
        self._after_commit(ids, reply)
        return ids

    def _answer(self, session: Session, phone: str, text: str, command: Command,
                lang: str) -> Reply:
        for interceptor in INTERCEPTORS:
            answer = interceptor(session, phone, text, self.settings, self.now())
            if answer:  # interceptors answer the phones of registered health workers
                return Reply([answer], budgeted=False)
        handler = HANDLERS.get(command.name) or HANDLERS.get("UNKNOWN")
        return handler(self, session, phone, command, lang) if handler else Reply([])

    def _after_commit(self, ids: list[int], reply: Reply) -> None:
        if self.enqueue is None:
            return
        try:
            self.enqueue(ids, "notify")
            if reply.follow_up is not None:
                self.enqueue(reply.follow_up(), "notify")
        except Exception as exc:  # noqa: BLE001 - rows are in SQL; sweepers pick them up
            log.warning("inbound follow-up deferred to the sweepers: %s", exc)


def _already_answered(session: Session, key: str) -> bool:
    return session.scalar(select(Message.id).where(Message.dedupe_key == f"{key}:1")) is not None
