"""The Africa's Talking USSD protocol on top of the menu engine.

Every request carries the session's whole input history in ``text``, joined by ``*``.
We keep, per session, a fingerprint (length + SHA-256) of the history already consumed, never
the typed answers themselves, and apply only what is new:

- same history as before      -> the aggregator repeated a request: show the same screen
                                 again, run nothing twice;
- history extends the old one -> the extension is the new answer (an answer may itself
                                 contain ``*``);
- anything else               -> out of step (e.g. a lost record): resynchronise on the
                                 given history and show the current screen again.

Paging (``98`` more, ``0`` back a page) is handled here, since pages are a USSD matter;
everything else goes to the engine. A phone that dropped out mid-journey is offered
"continue / start over" when it dials again within the resume window.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from gateway.flows import Context, FlowSet, Screen, current_screen, resume, start
from gateway.sessions.admission import Admission
from gateway.sessions.store import Record
from gateway.text.i18n import DEFAULT_LANGUAGE
from gateway.text.phones import mask_phone
from gateway.ussd_menus.render import BACK, MORE, render, turn_page

log = logging.getLogger(__name__)

RESUME_CONTINUE, RESUME_RESTART = "1", "2"
NOT_ON_SCREEN = "-"  # what an option key from another page is answered as: an invalid choice


@dataclass(frozen=True)
class UssdReply:
    """The answer to the aggregator: ``CON text`` keeps the session open, ``END text`` ends it."""

    text: str
    final: bool

    @property
    def body(self) -> str:
        return ("END " if self.final else "CON ") + self.text


@dataclass(frozen=True)
class StepResult:
    """The reply, and the session record to store (None: nothing to store)."""

    reply: UssdReply
    record: Record | None
    resumable: bool = False
    signed_in: bool = False  # this step reached a journey home (a health worker's PIN passed)


class UssdProtocol:
    """Answers one USSD request; all state lives in the SessionStore between requests."""

    def __init__(self, flows: FlowSet, services: Any, settings: dict[str, Any], today: dt.date,
                 versions: Callable[[str | None], FlowSet | None] | None = None,
                 admission: Admission | None = None):
        self.flows = flows  # the live menus; a session in progress keeps its own version
        self.live = flows  # "Start over" always starts on the live menus
        self.versions = versions
        self.services = services
        self.settings = settings
        self.today = today
        self.admission = admission or Admission.unlimited()

    def answer(self, session_id: str, phone: str, text: str, record: Record | None,
               offered: Record | None = None) -> StepResult:
        """Apply ``text`` (the whole history) to the session's ``record`` (None for a new
        session, then ``offered`` is the phone's unfinished earlier session, if any); return
        the reply and the record to save. The caller does the Redis I/O."""
        if record is None:
            verdict = self.admission.enter(f"ussd:{session_id}", phone)
            if not verdict.admitted:
                return StepResult(self._queued(phone, verdict.position), None)
            record, screen = self._open(phone, text, offered)
            was_signed_in = False
        else:
            self._adopt(record["state"])
            was_signed_in = self._signed_in(record["state"])
            record, screen = self._continue(record, text)
        reply = self._render(record, screen)
        resumable = not reply.final and bool(record["state"].get("history"))
        signed_in = self._signed_in(record["state"]) and not was_signed_in
        return StepResult(reply, record, resumable, signed_in)

    def _signed_in(self, state: dict[str, Any]) -> bool:
        """True once the session reached a journey home: a health worker past her PIN."""
        return state.get("home") in self.flows.journey_homes

    def _queued(self, phone: str, position: int) -> UssdReply:
        """Past the session ceiling: the caller's place in the queue (SMS when it is their turn)."""
        profile = self.services.call("load_profile", {"phone": phone})
        lang = profile.vars.get("lang") or DEFAULT_LANGUAGE
        text = self.flows.messages.text("session.queued", lang, {"position": position})
        return UssdReply(text, final=True)

    def _open(self, phone: str, text: str, offered: Record | None) -> tuple[Record, Screen]:
        if offered and self._resumable(offered["state"]) and not self._booked_meanwhile(phone):
            log.info("offering resume to %s", mask_phone(phone))
            record = {"state": offered["state"], "consumed": _fingerprint(text), "page": 0,
                      "resume_offer": True}
            return record, self._resume_screen(record)
        self.flows = self.live
        ctx = Context(phone=phone, lang=None, today=self.today.isoformat(),
                      services=self.services, settings=self.settings)
        state, screen = start(self.flows, ctx)
        return {"state": state, "consumed": _fingerprint(text), "page": 0}, screen

    def _resumable(self, state: dict[str, Any]) -> bool:
        """An unfinished session on a known menu version, never one past a health worker's
        PIN: a new session asks for the PIN again rather than continue without it."""
        return self._adopt(state) and not self._signed_in(state)

    def _booked_meanwhile(self, phone: str) -> bool:
        """A booking since the dropped session: the fresh session shows it with its code
        instead of resuming at a confirm screen the caller has in fact passed."""
        return self.services.call("recent_booking", {"phone": phone}).outcome == "found"

    def _adopt(self, state: dict[str, Any]) -> bool:
        """Answer on the menu version the session started on, if it is still known."""
        found = self.versions(state.get("version")) if self.versions else None
        if found is not None:
            self.flows = found
        return state.get("version") == self.flows.version

    def _continue(self, record: Record, text: str) -> tuple[Record, Screen]:
        answer = _new_answer(record["consumed"], text)
        record["consumed"] = _fingerprint(text)
        if answer is None:
            return record, self._current(record)
        if record.get("resume_offer"):
            return self._answer_resume(record, answer)
        return self._apply(record, answer)

    def _apply(self, record: Record, answer: str) -> tuple[Record, Screen]:
        screen = current_screen(self.flows, record["state"])
        page = record.get("page", 0)
        new_page = None
        if answer in (MORE, BACK):  # only a paging key needs the page count
            page_count = render(screen, page, self.flows.messages).page_count
            new_page = turn_page(answer, page, page_count)
        if new_page is not None:
            record["page"] = new_page
            return record, screen
        if _off_page(screen, page, answer.strip(), self.flows):
            answer = NOT_ON_SCREEN  # never book a window the caller was not shown
        state, screen, _effects = resume(self.flows, record["state"], answer, self.services)
        record.update(state=state, page=0)
        return record, screen

    def _answer_resume(self, record: Record, answer: str) -> tuple[Record, Screen]:
        if answer == RESUME_CONTINUE:
            record.pop("resume_offer")
            return record, self._current(record)
        if answer == RESUME_RESTART:
            self.flows = self.live
            vars = record["state"]["vars"]
            ctx = Context(phone=vars["phone"], lang=vars.get("lang"),
                          today=self.today.isoformat(), services=self.services,
                          settings=self.settings)
            state, screen = start(self.flows, ctx)
            return {"state": state, "consumed": record["consumed"], "page": 0}, screen
        return record, self._resume_screen(record)

    def _current(self, record: Record) -> Screen:
        if record.get("resume_offer"):
            return self._resume_screen(record)
        return current_screen(self.flows, record["state"])

    def _resume_screen(self, record: Record) -> Screen:
        lang = record["state"]["vars"].get("lang", DEFAULT_LANGUAGE)
        text = self.flows.messages.text("session.resume", lang)
        return Screen(screen_id="session.resume", prompt_key="session.resume", text=text,
                      options=(), lang=lang)

    def _render(self, record: Record, screen: Screen) -> UssdReply:
        page = render(screen, record.get("page", 0), self.flows.messages)
        return UssdReply(page.text, final=screen.final)


def _off_page(screen: Screen, page: int, answer: str, flows: FlowSet) -> bool:
    """True if ``answer`` is the key of an option that is on another page than the one shown."""
    if len(screen.options) < 2 or answer not in {option.key for option in screen.options}:
        return False
    return answer not in render(screen, page, flows.messages).option_keys_on_page


def _fingerprint(text: str) -> list:
    """What we keep of the history: its length and a hash, never the answers themselves
    (a health worker's PIN, an OTP or an ID number is typed into this history)."""
    return [len(text), hashlib.sha256(text.encode()).hexdigest()]


def _new_answer(consumed: list, text: str) -> str | None:
    """The part of ``text`` not yet applied, or None for a repeat or an out-of-step history."""
    length, digest = consumed
    if len(text) < length or hashlib.sha256(text[:length].encode()).hexdigest() != digest:
        return None  # out of step: show the current screen again
    if len(text) == length:
        return None  # a repeat
    if length == 0:
        return text
    if text[length] == "*":
        return text[length + 1:]
    return None
