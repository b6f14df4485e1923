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
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from gateway.flows import FlowSet, Screen
from gateway.flows.catalog import PLACEHOLDER, fill, pick, placeholders
from gateway.flows.flowset import ScreenDef
from gateway.text.i18n import (
    DEFAULT_LANGUAGE,
    KILOMETRES,
    LANGUAGES,
    MONTHS,
    SPOKEN_KILOMETRES,
    SPOKEN_UNDER_ONE,
    WEEKDAYS,
)

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
_FREE_PLACES = re.compile(r" \((\d+)\)")  # "09:00-11:00 (12)": places left in a window
FREE_PLACES = {"en": ", {n} places free", "hi": ", {n} जगह खाली", "bn": ", {n}টি জায়গা খালি"}
_LETTER = re.compile(r"\w")
_CODE = re.compile(r"\b(?=[A-Z0-9]*\d)(?=[A-Z0-9]*[A-Z])[A-Z0-9]{6}\b")


@dataclass(frozen=True)
class Speech:
    """One piece of a prompt: ``text`` to say in ``lang``, or a recording at ``audio_url``,
    or ``parts`` (recorded fixed words around spoken values) one after the other."""

    text: str = ""
    lang: str = DEFAULT_LANGUAGE
    audio_url: str = ""
    parts: tuple[Speech, ...] = ()


@dataclass(frozen=True)
class VoicePrompt:
    """What the caller hears and what we wait for next.

    expect: "key" (one key press), "digits" (keys ended by #), "record" (a spoken answer),
    "speech" (a spoken answer as text, Twilio only), or "hangup" (the call is over).
    """

    speech: tuple[Speech, ...]
    expect: str = "key"
    speech_language: str = ""  # expect "speech": the BCP-47 language to understand

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
    places = FREE_PLACES.get(lang, FREE_PLACES[DEFAULT_LANGUAGE])
    text = _FREE_PLACES.sub(lambda m: places.format(n=m.group(1)), text)
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
    """Recordings: an admin's ``<folder>/<lang>/<key>.mp3``, or a screen's ``audio:`` file
    (relative to the folder) or URL, else one generated for the menu ``version``
    (``<folder>/generated/<version>/<lang>/<key>.wav``, gateway/ivr/recordings.py); served
    from ``base_url``."""

    folder: Path
    base_url: str = ""
    version: str = ""

    def url(self, key: str | None, lang: str, explicit: str = "", generated: bool = True) -> str:
        """The URL of the recording for ``key`` in ``lang``, or "" if there is none
        (``generated``: a generated one counts too)."""
        if explicit.startswith(("http://", "https://")):
            return explicit
        candidates = [explicit] if explicit else []
        if key:
            candidates.append(f"{lang}/{key}.mp3")
            if self.version and generated:
                candidates.append(f"generated/{self.version}/{lang}/{key}.wav")
        for relative in candidates:
            if (self.folder / relative).is_file():
                return f"{self.base_url.rstrip('/')}/{relative}"
        return ""

    def has_parts(self, key: str, lang: str, template: str) -> bool:
        """True if every fixed part of a template with variables is recorded (a template of
        variables only has nothing to record)."""
        if not PLACEHOLDER.search(template):
            return False
        count = len(_segments(template))
        return all(self.url(f"{key}.part{n}", lang) for n in range(1, count + 1))

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
             explicit_audio: str = "",
             template: tuple[str, str, Mapping[str, Any]] | None = None) -> Speech:
        """One spoken line: a human recording if there is one, else TTS, else a generated
        recording, else the recorded parts of its ``template`` (recording key, text, vars)
        around values in English, else English TTS."""
        url = self.audio.url(key, lang, explicit_audio, generated=lang not in self.tts_languages)
        if url:
            return Speech(audio_url=url, lang=lang)
        if lang in self.tts_languages:
            return Speech(text=build(lang), lang=lang)
        if template and self.audio.has_parts(template[0], lang, template[1]):
            return Speech(parts=self._parts(lang, *template), lang=lang)
        return Speech(text=build(DEFAULT_LANGUAGE), lang=DEFAULT_LANGUAGE)

    def _parts(self, lang: str, key: str, template: str, vars: Mapping[str, Any]
               ) -> tuple[Speech, ...]:
        """Recorded fixed parts with the values between them, spoken in English (a
        provider with no voice for ``lang``: Africa's Talking for Hindi and Bengali)."""
        values = spoken_vars(vars, DEFAULT_LANGUAGE)
        parts, number = [], 0
        for index, piece in enumerate(PLACEHOLDER.split(template)):
            if index % 2:
                value = english_only(str(values.get(piece) or ""))
                if value:
                    parts.append(Speech(text=value, lang=DEFAULT_LANGUAGE))
            elif _LETTER.search(piece):
                number += 1
                parts.append(Speech(audio_url=self.audio.url(f"{key}.part{number}", lang),
                                    lang=lang))
        return tuple(parts)

    def message(self, key: str, lang: str, vars: Mapping[str, Any] | None = None) -> Speech:
        """A messages.yaml text (e.g. "voice.no_input") as one spoken line."""
        vars = vars or {}
        return self.line(lang, lambda lg: self.flows.messages.text(key, lg, spoken_vars(vars, lg)),
                         key, template=(key, self.flows.messages.template(key, lang), vars))

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
        for prompt_lang in _prompt_languages(screen, definition):
            speech.append(self._prompt(replace(screen, lang=prompt_lang), definition))
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
            if definition is None:  # a shared END (errors): its voice.* wording if it has one
                return self.flows.messages.text(_voice_key(self.flows, screen.prompt_key), lang,
                                                spoken_vars(vars, lang))
            template = pick(definition.voice or definition.prompt or {}, lang)
            return fill(template, spoken_vars(vars, lang)).replace("\n", ". ")

        explicit = definition.audio.get(screen.lang, "") if definition else ""
        if definition is None:
            template = self.flows.messages.template(_voice_key(self.flows, screen.prompt_key),
                                                    screen.lang)
            key = _voice_key(self.flows, screen.prompt_key)
        else:
            template = pick(definition.voice or definition.prompt or {}, screen.lang)
            key = screen.prompt_key
        spoken = self.line(screen.lang, build, key, explicit,
                           (key, template.replace("\n", ". "), vars))
        recording = _name_recording(screen, definition)
        return Speech(parts=(Speech(audio_url=recording), spoken), lang=screen.lang) \
            if recording else spoken

    def _options(self, screen: Screen, definition: ScreenDef | None, page: int) -> list[Speech]:
        """"For X, press N" for the options on ``page``, and "press 9 for more" if any."""
        shown, more = page_options(len(screen.options), page)
        lines = []
        for local_key, index in shown:
            build = self._option_builder(screen, definition, index, local_key)
            lang = _option_language(screen, definition, index)
            around = ("voice.option", self.flows.messages.template("voice.option", lang),
                      {"label": screen.options[index].label, "key": local_key})
            line = self.line(lang, build, self._option_key(screen, definition, index),
                             template=around)
            recording = screen.options[index].audio  # a name said on a call: play it first
            lines.append(Speech(parts=(Speech(audio_url=recording), line), lang=lang)
                         if recording else line)
        if more:
            lines.append(self.message("voice.more", screen.lang))
        return lines

    def _option_builder(self, screen: Screen, definition: ScreenDef | None, index: int,
                        key: str) -> Callable[[str], str]:
        """The spoken line of one option: a whole line of its own (a verb form, "To
        register, press 1"), or its label in ``voice.option`` ("For Hindi, press 2")."""
        option = screen.options[index]
        if definition is not None and definition.type == "confirm":
            message = f"voice.{'yes' if index == 0 else 'no'}"
            return lambda lg: self.flows.messages.text(message, lg, {"key": key})

        def label(lg: str) -> str:
            if definition is not None and definition.type == "menu":
                option_def = definition.options[index]
                return pick(option_def.voice or option_def.label, lg)
            return option.label

        def build(lg: str) -> str:
            text = label(lg)
            if "{key}" in text:
                return fill(text, {**spoken_vars(screen.variables, lg), "key": key})
            text = speak_text(fill(text, screen.variables), lg)
            return self.flows.messages.text("voice.option", lg, {"label": text, "key": key})
        return build

    @staticmethod
    def _option_key(screen: Screen, definition: ScreenDef | None, index: int) -> str | None:
        """The recording key of a fixed option ("registration.gender.option2"); None for
        list items, which come from the database and cannot be recorded in advance."""
        if definition is None or definition.type == "list":
            return None
        if definition.type == "confirm":
            return "voice.yes" if index == 0 else "voice.no"
        return f"{screen.screen_id}.option{index + 1}"


_INDIC_WORD = re.compile(r"[\u0900-\u09FF]+")
ENGLISH_WORDS = {word: english for table in (SPOKEN_UNDER_ONE, SPOKEN_KILOMETRES, KILOMETRES)
                 for lang, word in table.items() if lang != DEFAULT_LANGUAGE
                 for english in (table[DEFAULT_LANGUAGE],)}


def english_only(value: str) -> str:
    """A value for an English voice: distances in English, other Hindi or Bengali words
    left out (an English voice cannot read them)."""
    for word, english in sorted(ENGLISH_WORDS.items(), key=lambda item: -len(item[0])):
        value = value.replace(word, english)
    return " ".join(_INDIC_WORD.sub("", value).split())


def _segments(template: str) -> list[str]:
    """The fixed parts of a template that have words (gateway/ivr/recordings.py records
    them as ``<key>.part<n>``)."""
    return [part for part in PLACEHOLDER.split(template)[::2] if _LETTER.search(part)]


NAME_VARS = ("name", "beneficiary_name")


def _name_recording(screen: Screen, definition: ScreenDef | None) -> str:
    """The recorded name to play before a prompt that shows the person's name on USSD (a
    confirmation, the booking), when the name was only ever said on a call."""
    url = str(screen.variables.get("name_recording_url") or "")
    if not url or definition is None or not definition.prompt:
        return ""
    shown = {name for text in definition.prompt.values() for name in placeholders(text)}
    return url if shown.intersection(NAME_VARS) else ""


def _voice_key(flows: FlowSet, key: str) -> str:
    """``voice.<name>`` for a shared ``session.<name>`` text when the voice has its own
    wording ("call again" rather than "dial again"), else the key itself."""
    spoken = "voice." + key.partition(".")[2]
    return spoken if key.startswith("session.") and spoken in flows.messages else key


def _language_choices(definition: ScreenDef | None) -> list[str]:
    """The languages a language menu offers (every option sets ``lang``), else []."""
    if definition is None or definition.type != "menu" or not definition.options:
        return []
    chosen = [option.set.get("lang") for option in definition.options]
    return chosen if all(lang in LANGUAGES for lang in chosen) else []


def _prompt_languages(screen: Screen, definition: ScreenDef | None) -> list[str]:
    """A language menu greets a caller who has not chosen yet in every language it offers."""
    offered = _language_choices(definition)
    return offered if offered and not screen.variables.get("lang") else [screen.lang]


def _option_language(screen: Screen, definition: ScreenDef | None, index: int) -> str:
    """A language menu speaks each choice in its own language ("हिंदी के लिए 2 दबाएँ")."""
    offered = _language_choices(definition)
    return offered[index] if offered else screen.lang


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
