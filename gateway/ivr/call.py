"""The call-state protocol: one voice call driven through the menu engine.

A call's record lives in the SessionStore (channel "ivr"), keyed by the provider's call id
(Twilio ``CallSid``, Africa's Talking ``sessionId``), with a TTL. The webhook loads it (and,
for a new call, the phone's resumable record) and saves what ``CallProtocol.saved`` holds
afterwards, in one Redis round trip each (``SessionStore.begin_step``/``end_step``); the
protocol itself does no I/O. A record holds:

    state     the engine state (gateway.flows)
    page      the spoken page of a long list (9 = more)
    silence   timeouts in a row on the current prompt
    resume    True while the caller is being offered "continue / start over"

Keys: ``*`` repeats, ``9`` turns the page of a long list, ``0`` goes back; on a long list the
keys 1-8 choose on the current page. A name is recorded, not keyed: the recording URL is kept
in the vars (``name_recording_url``) and the engine gets a placeholder name, so the
registration is stored with its name "to be confirmed at the center". Silence re-prompts
``retries`` times, then the call ends with an SMS saying how to finish. A dropped call is
offered to resume when the same phone calls back within the resume window.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import logging
from collections.abc import Callable
from typing import Any

from gateway.flows import Context, FlowSet, current_screen, resume, start
from gateway.flows.validators import VALIDATORS
from gateway.ivr.voice import MAX_UNPAGED, MORE, REPEAT, Speaker, VoicePrompt, option_for_key
from gateway.ivr.voice import page_count as count_pages
from gateway.sessions.store import Record
from gateway.text.i18n import DEFAULT_LANGUAGE
from gateway.text.phones import mask_phone

log = logging.getLogger(__name__)

MAX_ANSWER = 64  # longer key sequences are cut (and then refused by the engine)
RESUME_CONTINUE, RESUME_RESTART = "1", "2"
NOT_AN_OPTION = "-"  # a key that is no option on this page: the engine says "invalid"
NoInputHook = Callable[[str, str, str, bool], None]  # (call id, phone, lang, begun)


def placeholder_name(recording_url: str) -> str:
    """A name the engine accepts for a recorded name, distinct per recording ("Voice Kbmd")."""
    digest = hashlib.sha256(recording_url.encode()).hexdigest()[:4]
    return "Voice " + "".join(chr(ord("a") + int(ch, 16)) for ch in digest)


class CallProtocol:
    """Answers one provider callback, given the call's stored record (None for a new call)
    and, for a new call, the phone's unfinished earlier record (``offered``). What is to be
    stored afterwards is left in ``saved``: (record, resumable), or None."""

    def __init__(self, flows: FlowSet, services: Any, speaker: Speaker,
                 settings: dict[str, Any], today: dt.date, retries: int = 2,
                 on_no_input: NoInputHook | None = None,
                 speech_languages: dict[str, str] | None = None):
        self.flows, self.services = flows, services
        self.speaker, self.settings, self.today = speaker, settings, today
        self.retries, self.on_no_input = retries, on_no_input
        # lang -> BCP-47 where the provider turns speech into text (Twilio); {}: none
        self.speech_languages = speech_languages or {}
        self.saved: tuple[Record, bool] | None = None

    # --- callbacks ------------------------------------------------------------------------

    def open(self, call_id: str, phone: str, record: Record | None,
             offered: Record | None = None) -> VoicePrompt:
        """A call starts (or the provider repeats its first request)."""
        if record is not None:
            return self._save(call_id, record, self._current(record))
        if offered and offered.get("state", {}).get("version") == self.flows.version:
            log.info("offering resume to %s", mask_phone(phone))
            record = {"state": offered["state"], "page": 0, "silence": 0, "resume": True}
            return self._save(call_id, record, self._resume_prompt(record))
        return self._save(call_id, *self._start(phone, None))

    def keys(self, call_id: str, phone: str, digits: str | None, record: Record | None,
             offered: Record | None = None) -> VoicePrompt:
        """The caller pressed keys (``digits`` empty or None: nothing before the timeout)."""
        if record is None:
            return self.open(call_id, phone, None, offered)
        answer = (digits or "").strip().rstrip("#")[:MAX_ANSWER]
        if not answer:
            return self._silence(call_id, phone, record)
        record["silence"] = 0
        if record.get("awaiting"):
            return self._save(call_id, record, self._answer_name_step(record, answer))
        if answer == REPEAT or self._is_recording(record):
            return self._save(call_id, record, self._current(record))
        if record.get("resume"):
            return self._answer_resume(call_id, phone, record, answer)
        return self._save(call_id, record, self._apply(record, answer))

    def recording(self, call_id: str, phone: str, url: str | None, record: Record | None,
                  offered: Record | None = None) -> VoicePrompt:
        """A recorded answer arrived (``url`` empty: the caller said nothing)."""
        if record is None:
            return self.open(call_id, phone, None, offered)
        if not self._is_recording(record) or record.get("resume"):
            return self._save(call_id, record, self._current(record))
        if not url:
            return self._silence(call_id, phone, record)
        record["silence"] = 0
        record["state"]["vars"]["name_recording_url"] = url
        language = self.speech_languages.get(_lang(record))
        if language:  # also offer to write the name down from speech, confirmed by the caller
            record["awaiting"] = "speech"
            return self._save(call_id, record, self._name_prompt(record))
        return self._save(call_id, record, self._said_only(record))

    def heard(self, call_id: str, phone: str, text: str | None, record: Record | None,
              offered: Record | None = None) -> VoicePrompt:
        """The provider's text of the name said once more (empty: nothing understood)."""
        if record is None:
            return self.open(call_id, phone, None, offered)
        if record.get("awaiting") != "speech":
            return self._save(call_id, record, self._current(record))
        verdict = VALIDATORS["name"].check(text or "", {}, record["state"]["vars"])
        if verdict.value is None:
            return self._save(call_id, record, self._said_only(record))
        record.update(awaiting="confirm_name", heard=verdict.value)
        return self._save(call_id, record, self._name_prompt(record))

    def _answer_name_step(self, record: Record, answer: str) -> VoicePrompt:
        """Keys while the name is being written down: 1 keeps the name heard, 2 (or keys
        instead of speaking) keeps the recording only; keys go on to the next question."""
        step = record.get("awaiting")
        if answer == REPEAT:
            return self._name_prompt(record)
        if step == "confirm_name" and answer == "1":
            heard = record.pop("heard")
            record.pop("awaiting")
            record["state"]["vars"]["name_said_only"] = ""
            return self._engine(record, heard)
        if step == "confirm_name" and answer != "2":
            return self._name_prompt(record)
        prompt = self._said_only(record)
        if step == "speech":  # keyed instead of speaking: that was the next answer
            return self._apply(record, answer)
        return prompt

    def _said_only(self, record: Record) -> VoicePrompt:
        """Go on with the recording as the only name ("Person 2" until the center)."""
        record.pop("awaiting", None)
        record.pop("heard", None)
        vars = record["state"]["vars"]
        vars["name_said_only"] = "1"
        return self._engine(record, placeholder_name(vars.get("name_recording_url", "")))

    def _name_prompt(self, record: Record) -> VoicePrompt:
        lang = _lang(record)
        if record.get("awaiting") == "speech":
            ask = self.speaker.message("voice.say_name_again", lang)
            return VoicePrompt((ask,), "speech", self.speech_languages.get(lang, ""))
        check = self.speaker.message("voice.heard_name", lang, {"heard": record["heard"]})
        return VoicePrompt((check,), "key")

    # --- steps ----------------------------------------------------------------------------

    def _start(self, phone: str, lang: str | None) -> tuple[Record, VoicePrompt]:
        ctx = Context(phone=phone, lang=lang, today=self.today.isoformat(),
                      services=self.services, settings=self.settings)
        state, screen = start(self.flows, ctx)
        return {"state": state, "page": 0, "silence": 0}, self.speaker.screen(screen)

    def _apply(self, record: Record, answer: str) -> VoicePrompt:
        """Turn the page of a long list, or give the (page-mapped) answer to the engine."""
        screen = current_screen(self.flows, record["state"])
        count = len(screen.options)
        if count > MAX_UNPAGED and screen.input is None and answer != "0":
            page = record.get("page", 0)
            if answer == MORE:
                record["page"] = (page + 1) % count_pages(count)
                return self.speaker.screen(screen, record["page"])
            answer = option_for_key(count, page, answer) or NOT_AN_OPTION
        return self._engine(record, answer)

    def _engine(self, record: Record, answer: str) -> VoicePrompt:
        state, screen, _effects = resume(self.flows, record["state"], answer, self.services)
        record.update(state=state, page=0)
        return self.speaker.screen(screen)

    def _answer_resume(self, call_id: str, phone: str, record: Record,
                       answer: str) -> VoicePrompt:
        if answer == RESUME_CONTINUE:
            record.pop("resume")
            return self._save(call_id, record, self._current(record))
        if answer == RESUME_RESTART:
            lang = record["state"]["vars"].get("lang")
            return self._save(call_id, *self._start(phone, lang))
        return self._save(call_id, record, self._resume_prompt(record))

    def _silence(self, call_id: str, phone: str, record: Record) -> VoicePrompt:
        """Re-prompt after a timeout; after ``retries`` of them say goodbye and send an SMS."""
        record["silence"] = record.get("silence", 0) + 1
        lang = _lang(record)
        if record["silence"] <= self.retries:
            notice = self.speaker.message("voice.no_input", lang)
            return self._save(call_id, record, self._current(record, (notice,)))
        log.info("no input from %s; ending the call with an SMS", mask_phone(phone))
        begun = bool(record["state"].get("history")) or bool(record.get("resume"))
        if self.on_no_input is not None:
            self.on_no_input(call_id, phone, lang, begun)
        record.update(silence=0, resume=False)
        goodbye = self.speaker.message("voice.goodbye_no_input" if begun
                                       else "voice.goodbye_not_begun", lang)
        return self._save(call_id, record, VoicePrompt((goodbye,), "hangup"))

    # --- helpers --------------------------------------------------------------------------

    def _current(self, record: Record, before: tuple = ()) -> VoicePrompt:
        if record.get("resume"):
            return self._resume_prompt(record, before)
        if record.get("awaiting"):
            prompt = self._name_prompt(record)
            return VoicePrompt((*before, *prompt.speech), prompt.expect, prompt.speech_language)
        screen = current_screen(self.flows, record["state"])
        return self.speaker.screen(screen, record.get("page", 0), before)

    def _resume_prompt(self, record: Record, before: tuple = ()) -> VoicePrompt:
        offer = self.speaker.message("voice.resume", _lang(record))
        return VoicePrompt((*before, offer), "key")

    def _is_recording(self, record: Record) -> bool:
        """True when the current screen is answered by a recording, not keys."""
        screen = self.flows.screens.get(record["state"]["screen"])
        return bool(screen and screen.voice_record and not record.get("resume"))

    def _save(self, call_id: str, record: Record, prompt: VoicePrompt) -> VoicePrompt:
        """Keep the record to store; an unfinished journey stays resumable for the phone."""
        state = record["state"]
        self.saved = (record, not state.get("done") and bool(state.get("history")))
        return prompt


def _lang(record: Record) -> str:
    return record["state"]["vars"].get("lang") or DEFAULT_LANGUAGE
