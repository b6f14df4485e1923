"""Channel-neutral speech: a menu Screen becomes a VoicePrompt (what to say or play, and what
the caller should do next), which the Twilio and Africa's Talking adapters render as XML.

- Options are spoken ("For Hindi, press 2"); lists of more than 9 options are read in pages
  of 8 ("For more choices, press 9"); star repeats the prompt.
- Dates are spoken in full ("Monday, 23 November"), time windows naturally ("9 AM to 11 AM",
  "सुबह 9 बजे से सुबह 11 बजे तक"), reference codes and PIN codes character by character.
- A screen's ``voice:`` wording replaces its USSD prompt; ``audio:`` (or a file
  ``<audio_dir>/<lang>/<key>.mp3``) is played instead of text-to-speech. A language without a
  TTS voice (Bengali on Twilio) plays recordings, and where none exists falls back to English.
"""
from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gateway.flows import FlowSet, Screen
from gateway.flows.catalog import fill, pick
from gateway.flows.flowset import ScreenDef
from gateway.text.i18n import DEFAULT_LANGUAGE, MONTHS, WEEKDAYS

PAGE_SIZE = 8  # options per spoken page when a list is paged (9 = more)
MAX_UNPAGED = 9  # up to 9 options are read at once, keys 1-9
MORE, REPEAT = "9", "*"

FULL_WEEKDAYS = {
    "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
    "hi": ("सोमवार", "मंगलवार", "बुधवार", "गुरुवार", "शुक्रवार", "शनिवार", "रविवार"),
    "bn": ("সোমবার", "মঙ্গলবার", "বুধবার", "বৃহস্পতিবার", "শুক্রবার", "শনিবার", "রবিবার"),
}
FULL_MONTHS = {
    "en": ("January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December"),
    "hi": ("जनवरी", "फ़रवरी", "मार्च", "अप्रैल", "मई", "जून", "जुलाई", "अगस्त", "सितंबर",
           "अक्तूबर", "नवंबर", "दिसंबर"),
    "bn": ("জানুয়ারি", "ফেব্রুয়ারি", "মার্চ", "এপ্রিল", "মে", "জুন", "জুলাই", "আগস্ট",
           "সেপ্টেম্বর", "অক্টোবর", "নভেম্বর", "ডিসেম্বর"),
}
# (hour from which the period applies, word), per language; English uses AM/PM instead.
DAY_PERIODS = {
    "hi": ((0, "सुबह"), (12, "दोपहर"), (16, "शाम"), (19, "रात")),
    "bn": ((0, "সকাল"), (12, "দুপুর"), (16, "বিকেল"), (18, "সন্ধ্যা")),
}
TO_WORD = {"en": "{start} to {end}", "hi": "{start} से {end} तक", "bn": "{start} থেকে {end}"}
SPELLED_VARS = ("reference", "pincode", "id_last4", "helpline")

_SHORT_DATE = re.compile(
    "(" + "|".join(re.escape(w) for names in WEEKDAYS.values() for w in names) + r") (\d{1,2}) ("
    + "|".join(re.escape(m) for names in MONTHS.values() for m in names) + ")")
_WINDOW = re.compile(r"\b(\d{2}):(\d{2})-(\d{2}):(\d{2})\b")
_CODE = re.compile(r"\b(?=[A-Z0-9]*\d)(?=[A-Z0-9]*[A-Z])[A-Z0-9]{6}\b")


@dataclass(frozen=True)
class Speech:
    """One piece of a prompt: ``text`` to say in ``lang``, or a recording at ``audio_url``."""

    text: str = ""
    lang: str = DEFAULT_LANGUAGE
    audio_url: str = ""


@dataclass(frozen=True)
class VoicePrompt:
    """What the caller hears and what we wait for next.

    expect: "key" (one key press), "digits" (keys ended by #), "record" (a spoken answer),
    or "hangup" (the call is over).
    """

    speech: tuple[Speech, ...]
    expect: str = "key"

    @property
    def final(self) -> bool:
        return self.expect == "hangup"


# --- speaking dates, times and codes ----------------------------------------------------------

def spoken_date(day: dt.date, lang: str) -> str:
    """"Monday, 23 November" / "सोमवार, 23 नवंबर" / "সোমবার, 23 নভেম্বর"."""
    lang = lang if lang in FULL_WEEKDAYS else DEFAULT_LANGUAGE
    return f"{FULL_WEEKDAYS[lang][day.weekday()]}, {day.day} {FULL_MONTHS[lang][day.month - 1]}"


def spoken_time(hour: int, minute: int, lang: str) -> str:
    """"9 AM", "2:30 PM" / "दोपहर 2:30 बजे" / "দুপুর 2:30টা"."""
    twelve = hour % 12 or 12
    clock = f"{twelve}:{minute:02d}" if minute else str(twelve)
    if lang not in DAY_PERIODS:
        return f"{clock} {'AM' if hour < 12 else 'PM'}"
    period = [word for start, word in DAY_PERIODS[lang] if hour >= start][-1]
    return f"{period} {clock} बजे" if lang == "hi" else f"{period} {clock}টা"


def spell(code: str) -> str:
    """A code read one character at a time: "K7QP3M" -> "K, 7, Q, P, 3, M"."""
    return ", ".join(ch for ch in code if not ch.isspace())


def speak_text(text: str, lang: str) -> str:
    """Make a USSD-style text speakable: full dates, natural windows, spelled codes."""
    text = _SHORT_DATE.sub(lambda m: _expand_date(m, lang), text)
    text = _WINDOW.sub(lambda m: _expand_window(m, lang), text)
    return _CODE.sub(lambda m: spell(m.group(0)), text)


def _expand_date(match: re.Match[str], lang: str) -> str:
    """A short date in any language -> the full date in ``lang`` (weekday and month agree)."""
    weekday, day, month = match.groups()
    months = [names.index(month) + 1 for names in MONTHS.values() if month in names]
    weekdays = [names.index(weekday) for names in WEEKDAYS.values() if weekday in names]
    lang = lang if lang in FULL_WEEKDAYS else DEFAULT_LANGUAGE
    return (f"{FULL_WEEKDAYS[lang][weekdays[0]]}, {int(day)} "
            f"{FULL_MONTHS[lang][months[0] - 1]}")


def _expand_window(match: re.Match[str], lang: str) -> str:
    h1, m1, h2, m2 = (int(part) for part in match.groups())
    template = TO_WORD.get(lang, TO_WORD[DEFAULT_LANGUAGE])
    return template.format(start=spoken_time(h1, m1, lang), end=spoken_time(h2, m2, lang))


def spoken_vars(vars: Mapping[str, Any], lang: str) -> dict[str, Any]:
    """Session vars as they should sound: dates in full, codes spelled."""
    spoken = dict(vars)
    if vars.get("date") and vars.get("date_label"):
        try:
            spoken["date_label"] = spoken_date(dt.date.fromisoformat(str(vars["date"])), lang)
        except ValueError:
            spoken["date_label"] = speak_text(str(vars["date_label"]), lang)
    for name in SPELLED_VARS:
        if vars.get(name):
            spoken[name] = spell(str(vars[name]))
    return {key: speak_text(value, lang) if isinstance(value, str) else value
            for key, value in spoken.items()}


# --- recorded audio ---------------------------------------------------------------------------

@dataclass(frozen=True)
class AudioLibrary:
    """Admin-provided recordings: ``<folder>/<lang>/<key>.mp3``, or a screen's ``audio:`` file
    (relative to the folder) or URL; served from ``base_url``."""

    folder: Path
    base_url: str = ""

    def url(self, key: str | None, lang: str, explicit: str = "") -> str:
        """The URL of the recording for ``key`` in ``lang``, or "" if there is none."""
        if explicit.startswith(("http://", "https://")):
            return explicit
        relative = explicit or (f"{lang}/{key}.mp3" if key else "")
        if not relative or not (self.folder / relative).is_file():
            return ""
        return f"{self.base_url.rstrip('/')}/{relative}"

    def has(self, key: str, lang: str, explicit: str = "") -> bool:
        """True if a recording exists (an explicit URL counts)."""
        return bool(self.url(key, lang, explicit))


# --- screens to prompts -----------------------------------------------------------------------

@dataclass
class Speaker:
    """Turns screens and shared messages into VoicePrompts for one deployment's voices."""

    flows: FlowSet
    tts_languages: frozenset[str]
    audio: AudioLibrary
    parts: list[Speech] = field(default_factory=list)

    def line(self, lang: str, build: Callable[[str], str], key: str | None = None,
             explicit_audio: str = "") -> Speech:
        """One spoken line: a recording if there is one, else TTS, else English TTS."""
        url = self.audio.url(key, lang, explicit_audio)
        if url:
            return Speech(audio_url=url, lang=lang)
        spoken_lang = lang if lang in self.tts_languages else DEFAULT_LANGUAGE
        return Speech(text=build(spoken_lang), lang=spoken_lang)

    def message(self, key: str, lang: str, vars: Mapping[str, Any] | None = None) -> Speech:
        """A messages.yaml text (e.g. "voice.no_input") as one spoken line."""
        vars = vars or {}
        return self.line(lang, lambda lg: self.flows.messages.text(key, lg, spoken_vars(vars, lg)),
                         key)

    def screen(self, screen: Screen, page: int = 0, before: tuple[Speech, ...] = ()
               ) -> VoicePrompt:
        """The prompt for a screen: notices, error, prompt, the page's options, hints."""
        lang = screen.lang
        definition = self.flows.screens.get(screen.screen_id)
        speech = list(before)
        if screen.error:
            error = screen.error
            speech.append(self.line(lang, lambda lg: error if lg == lang else
                                    self.flows.messages.text("error.invalid_choice", lg)))
        speech.append(self._prompt(screen, definition))
        if screen.final:
            speech.append(self.message("voice.goodbye", lang))
            return VoicePrompt(tuple(speech), "hangup")
        if definition is not None and definition.voice_record:
            return VoicePrompt(tuple(speech), "record")
        speech += self._options(screen, definition, page)
        if screen.input is not None:
            speech.append(self.message("voice.finish_hash", lang))
            return VoicePrompt(tuple(speech), "digits")
        speech.append(self.message("voice.repeat", lang))
        return VoicePrompt(tuple(speech), "key")

    def _prompt(self, screen: Screen, definition: ScreenDef | None) -> Speech:
        vars = screen.variables

        def build(lang: str) -> str:
            if definition is None:
                return self.flows.messages.text(screen.prompt_key, lang, spoken_vars(vars, lang))
            template = pick(definition.voice or definition.prompt or {}, lang)
            return fill(template, spoken_vars(vars, lang)).replace("\n", ". ")

        explicit = definition.audio.get(screen.lang, "") if definition else ""
        return self.line(screen.lang, build, screen.prompt_key, explicit)

    def _options(self, screen: Screen, definition: ScreenDef | None, page: int) -> list[Speech]:
        """"For X, press N" for the options on ``page``, and "press 9 for more" if any."""
        shown, more = page_options(len(screen.options), page)
        lines = []
        for local_key, index in shown:
            label = self._label_builder(screen, definition, index)
            lines.append(self.line(
                screen.lang, lambda lg, label=label, key=local_key: self.flows.messages.text(
                    "voice.option", lg, {"label": label(lg), "key": key}),
                self._option_key(screen, definition, index)))
        if more:
            lines.append(self.message("voice.more", screen.lang))
        return lines

    def _label_builder(self, screen: Screen, definition: ScreenDef | None,
                       index: int) -> Callable[[str], str]:
        option = screen.options[index]
        if definition is not None and definition.type == "menu":
            option_def = definition.options[index]
            translations = option_def.voice or option_def.label
            return lambda lg: speak_text(fill(pick(translations, lg), screen.variables), lg)
        if definition is not None and definition.type == "confirm":
            key = f"confirm.{'yes' if index == 0 else 'no'}"
            return lambda lg: self.flows.messages.text(key, lg)
        return lambda lg: speak_text(option.label, lg)

    @staticmethod
    def _option_key(screen: Screen, definition: ScreenDef | None, index: int) -> str | None:
        """The recording key of a fixed option ("registration.gender.option2"); None for
        list items, which come from the database and cannot be recorded in advance."""
        if definition is None or definition.type == "list":
            return None
        return f"{screen.screen_id}.option{index + 1}"


def page_options(count: int, page: int) -> tuple[list[tuple[str, int]], bool]:
    """The (key to press, option index) pairs read on ``page``, and whether more follow."""
    if count <= MAX_UNPAGED:
        return [(str(i + 1), i) for i in range(count)], False
    first = page * PAGE_SIZE
    indexes = range(first, min(first + PAGE_SIZE, count))
    return [(str(i - first + 1), i) for i in indexes], first + PAGE_SIZE < count


def page_count(count: int) -> int:
    """How many spoken pages ``count`` options take."""
    return 1 if count <= MAX_UNPAGED else -(-count // PAGE_SIZE)


def option_for_key(count: int, page: int, key: str) -> str | None:
    """The engine's answer (1-based option number) for a key pressed on ``page``."""
    for local_key, index in page_options(count, page)[0]:
        if key == local_key:
            return str(index + 1)
    return None
